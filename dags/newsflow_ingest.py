"""
### newsflow_ingest

Pulls every feed of the registry (`NEWSFLOW_FEEDS_FILE`, YAML or OPML), fetches and
cleans the articles, and writes one Parquet batch per shard to the lake.  When every
shard is done, `summarize` emits the asset **`x-newsflow://lake/articles`** once, with
the run's counts, per-shard counts and batch URIs in the event extra; that event
triggers `newsflow_process` (dedup, warehouse load, related articles) exactly once per
ingest run.  A run that found nothing new (no articles, no rejects) emits nothing.

* **Schedule**: `NEWSFLOW_INGEST_SCHEDULE` (default `@hourly`, `none` = manual only),
  read when the file is parsed; `catchup=False`: feeds only serve their current items,
  so a missed hour cannot be replayed anyway.  Reruns are safe: entries already in the lake are skipped and batch
  keys derive from the run's logical date, never from the clock.
* **Shards**: the registry is split by host into shards of at most
  `NEWSFLOW_FEEDS_PER_SHARD` feeds (default 20); `ingest_shard` is mapped over them.
* **Pool**: every `ingest_shard` runs in the pool `newsflow_fetch`, which bounds how
  many shards fetch at once.  Create it once per deployment:
  `airflow pools set newsflow_fetch 4 "newsflow feed/page fetching"`.
* **Connections** (optional, read at task run time): `newsflow_lake` (aws: S3 or an
  S3-compatible endpoint), `newsflow_warehouse`; without them `NEWSFLOW_*` env vars apply.
* **XCom** carries the shard plan (feed URLs), counts and lake URIs only, never articles.
* **Retries**: 3 with exponential backoff (1 min doubling, at most 20 min); a fetch
  shard times out after 45 min.  Rerunning a shard rewrites the same batch key.
* **Observability**: each task logs its counts (feeds ok/failed, entries, articles
  stored, rejects by reason); task callbacks buffer one run-metrics record per task try
  in the lake, which `newsflow_process` loads into the warehouse table `run_metrics`.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, dag, task
from airflow.sdk.exceptions import AirflowSkipException
from newsflow_dag_args import default_args

log = logging.getLogger(__name__)

# The x- scheme prefix tells Airflow this URI has no provider normalizer; without it,
# building the Asset loads every provider's URI handlers at parse time (0.6 s, boto3).
# Must match the asset newsflow_process.py is scheduled on (checked by tests/dags).
ARTICLES = Asset("newsflow-articles", uri="x-newsflow://lake/articles")
FETCH_POOL = "newsflow_fetch"


def _schedule() -> str | None:
    """Cron/preset from ``NEWSFLOW_INGEST_SCHEDULE``; ``none`` means manual triggers only."""
    value = os.environ.get("NEWSFLOW_INGEST_SCHEDULE", "@hourly").strip()
    return None if value.lower() in {"", "none"} else value


DEFAULT_ARGS = default_args(execution_timeout=timedelta(minutes=45))


@dag(
    dag_id="newsflow_ingest",
    schedule=_schedule(),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,  # runs once the DAG is loaded (docs/airflow.md "Pause policy")
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "ingest", "feeds"],
    doc_md=__doc__,
)
def newsflow_ingest() -> None:
    @task(execution_timeout=timedelta(minutes=5))
    def plan_shards() -> list[dict[str, Any]]:
        """Load the feed registry and split it into host-grouped shards (feed URLs only)."""
        from newsflow_airflow import settings_from_airflow, shard_feeds

        from pipeline.feeds.registry import load_feeds

        settings = settings_from_airflow()
        try:
            feeds = load_feeds(settings.feeds_file)
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"feed registry {settings.feeds_file!r} not found: set NEWSFLOW_FEEDS_FILE on the "
                "workers or feeds_file in the newsflow_settings Variable") from exc
        shards = shard_feeds(feeds, per_shard=int(os.environ.get("NEWSFLOW_FEEDS_PER_SHARD", "20")))
        if not shards:
            log.warning("feed registry %s lists no feeds; nothing to ingest", settings.feeds_file)
        log.info("%d feeds from %s in %d shards: %s", len(feeds), settings.feeds_file,
                 len(shards), ", ".join(f"{s['name']}={len(s['feeds'])}" for s in shards))
        return shards

    @task(pool=FETCH_POOL, map_index_template="{{ shard_name }}")
    def ingest_shard(shard: dict[str, Any]) -> dict[str, Any]:
        """Fetch one shard's feeds into one lake batch; return and publish its counts."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, settings_from_airflow

        from pipeline.ingest import ingest
        from pipeline.models import FeedSpec

        context = get_current_context()
        context["shard_name"] = shard["name"]  # rendered by map_index_template
        feeds = [FeedSpec(url=f["url"], name=f.get("name"), language=f.get("language")) for f in shard["feeds"]]
        run_ts = run_ts_from_context(context)
        report = ingest(settings_from_airflow(), feeds, run_ts=run_ts)
        counts = {
            "shard": shard["name"],
            "run_ts": run_ts.isoformat(),
            "feeds_ok": report.feeds_ok,
            "feeds_failed": report.feeds_failed,
            "entries": report.entries,
            "articles_new": report.articles_new,
            "batch_id": report.batch_id,
            "batch_uri": report.batch_uri,
            "rejects": len(report.rejects),
            "rejects_by_reason": report.rejects_by_reason,
        }
        log.info("%s: %s", shard["name"], counts)
        return counts

    @task(outlets=[ARTICLES], execution_timeout=timedelta(minutes=5))
    def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
        """Add the shards' counts up, log them, and publish them with the lake asset event."""
        from airflow.sdk import get_current_context

        total: dict[str, Any] = {"shards": 0, "feeds_ok": 0, "feeds_failed": 0, "entries": 0,
                                 "articles_new": 0, "rejects": 0, "rejects_by_reason": {},
                                 "batches": [], "per_shard": {}}
        # index by position: iterating the lazy XCom sequence reads one past the end, which
        # Airflow logs as an "XCom not found" error that would mislead whoever reads the log
        for r in (results[i] for i in range(len(results))):
            total["shards"] += 1
            total["run_ts"] = r["run_ts"]
            for key in ("feeds_ok", "feeds_failed", "entries", "articles_new", "rejects"):
                total[key] += r[key]
            for reason, n in r["rejects_by_reason"].items():
                total["rejects_by_reason"][reason] = total["rejects_by_reason"].get(reason, 0) + n
            if r["batch_uri"]:
                total["batches"].append(r["batch_uri"])
            total["per_shard"][r["shard"]] = {"articles_new": r["articles_new"], "rejects": r["rejects"],
                                              "feeds_failed": r["feeds_failed"]}
        log.info("ingest run: %s", total)
        if not total["articles_new"] and not total["rejects"]:
            # skipped -> no asset event -> no pointless dedup/load run
            raise AirflowSkipException("no new articles and no rejects: not emitting the lake asset")
        get_current_context()["outlet_events"][ARTICLES].extra = total
        return total

    summarize(ingest_shard.expand(shard=plan_shards()))


newsflow_ingest()
