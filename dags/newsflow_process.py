"""
### newsflow_process

Runs whenever `newsflow_ingest` publishes new article batches (asset
**`x-newsflow://lake/articles`**): `dedup` (exact, near-duplicate and translation
clusters over the lake) -> `load_warehouse` (idempotent merge of new batches and the
latest dedup generation) -> `refresh_related` (related-article lists).  The last task
emits **`x-newsflow://warehouse/articles`** for whatever reads the warehouse downstream.

* Every stage reads the previous stage's durable output, so clearing any task and
  rerunning it is safe.  `max_active_runs=1`: the DuckDB warehouse has one writer.
* Asset-triggered DAGs cannot be backfilled; to reprocess history, run the stages with
  the CLI (`newsflow run`) or a date-scheduled DAG of its own.
* Settings come from the `newsflow_lake` / `newsflow_warehouse` connections when
  defined, else from `NEWSFLOW_*` env vars (see `plugins/newsflow_airflow`).
* Feed/page rejects are counted in the ingest asset events and kept in the lake by the
  ingest stage; `load_warehouse` merges them into the `rejects` table.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, dag, task

log = logging.getLogger(__name__)

# The x- scheme prefix tells Airflow this URI has no provider normalizer; without it,
# building the Asset loads every provider's URI handlers at parse time (0.6 s, boto3).
# Must match the outlet of newsflow_ingest.py (checked by tests/dags).
ARTICLES = Asset("newsflow-articles", uri="x-newsflow://lake/articles")
WAREHOUSE = Asset("newsflow-warehouse", uri="x-newsflow://warehouse/articles")

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "newsflow-data-eng",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    # Airflow 3.3: a multiplier (True is still accepted and read as 2.0; 0 disables it)
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=20),
    "execution_timeout": timedelta(hours=1),
}


@dag(
    dag_id="newsflow_process",
    schedule=[ARTICLES],
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "dedup", "warehouse"],
    doc_md=__doc__,
)
def newsflow_process() -> None:
    @task
    def dedup() -> dict[str, Any]:
        """Cluster every committed article into stories; write a dedup generation."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import settings_from_airflow

        from pipeline.stages import dedup as run_dedup

        _log_triggers(get_current_context())
        report = run_dedup(settings_from_airflow())
        result = {"generation_id": report.generation_id, "articles": report.articles,
                  "counts": dict(report.counts)}
        log.info("dedup: %s", result)
        return result

    @task
    def load_warehouse(dedup_result: dict[str, Any]) -> dict[str, Any]:
        """Merge new lake batches and the latest dedup generation into the warehouse."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, settings_from_airflow

        from pipeline.stages import load_warehouse as run_load

        run_ts = run_ts_from_context(get_current_context())
        report = run_load(settings_from_airflow(), run_ts=run_ts)
        result = {"batches_loaded": report.batches_loaded, "rows_loaded": report.rows_loaded,
                  "dedup_generation": report.dedup_generation, "search_indexed": report.search_indexed}
        if report.dedup_generation != dedup_result["generation_id"]:
            log.warning("warehouse holds dedup generation %s, dedup wrote %s (a newer batch landed?)",
                        report.dedup_generation, dedup_result["generation_id"])
        log.info("load: %s", result)
        return result

    @task(outlets=[WAREHOUSE])
    def refresh_related(load_result: dict[str, Any]) -> dict[str, Any]:
        """Recompute related-article lists for story canonicals; publish the warehouse asset."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import settings_from_airflow

        from pipeline.stages import refresh_related as run_related

        report = run_related(settings_from_airflow())
        result = {"canonicals": report.canonicals, "rows": report.rows,
                  "dedup_generation": load_result["dedup_generation"],
                  "rows_loaded": load_result["rows_loaded"]}
        log.info("related: %s", result)
        get_current_context()["outlet_events"][WAREHOUSE].extra = result
        return result

    refresh_related(load_warehouse(dedup()))


def _log_triggers(context: Any) -> None:
    """Log what the triggering ingest events reported (several shards may have fired)."""
    events = context.get("triggering_asset_events") or {}
    for asset, asset_events in events.items():
        for event in asset_events:
            extra = getattr(event, "extra", None) or {}
            log.info("triggered by %s: shard=%s articles_new=%s batch=%s", getattr(asset, "uri", asset),
                     extra.get("shard"), extra.get("articles_new"), extra.get("batch_uri"))


newsflow_process()
