"""
### newsflow_backfill

Brings archives into the lake: WARC/WARC.gz files, local or on S3, or `warc.paths.gz`
listings in Common Crawl's CC-NEWS layout (`newsflow backfill warc` is the same code).

* **Trigger** it by hand with params: `sources` (paths, `s3://` URIs or listings), `base`
  (prefix for a listing's relative lines), `domains`, `languages`, `since`, `until`
  (filters applied before extraction), `batch_size`, `passes` (trafilatura passes per
  page: 2 for the best text, 1 for about 1.7x the pages per second).
* `list_files` resolves the listings; **one mapped `backfill_file` task per WARC file**,
  in the pool `NEWSFLOW_BACKFILL_POOL` (default `newsflow_backfill`; create it with
  `airflow pools set newsflow_backfill 2 "newsflow WARC backfill"`), so a month of
  CC-NEWS never takes every worker slot.  XCom carries file URIs and counts, never data.
* Each file is **resumable**: its record offset is committed with each lake batch, so a
  retried or re-triggered task starts where the last committed batch ended, and a
  finished file is skipped.
* Then `dedup` -> `load_warehouse` -> `refresh_related` (the bodies `newsflow_process`
  uses), so an old original re-points its later translations; `record_metrics` is the
  teardown.  Paused when created, like reprocess: it runs only when triggered.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, task
from newsflow_dag_args import default_args

log = logging.getLogger(__name__)

WAREHOUSE = Asset("newsflow-warehouse", uri="x-newsflow://warehouse/articles")
BACKFILL_POOL = os.environ.get("NEWSFLOW_BACKFILL_POOL", "newsflow_backfill")

DEFAULT_ARGS = default_args(execution_timeout=timedelta(hours=1))


@dag(
    dag_id="newsflow_backfill",
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "backfill", "warc"],
    doc_md=__doc__,
    params={
        "sources": Param([], type="array", description="WARC files, s3:// URIs or warc.paths.gz listings"),
        "base": Param("", type="string", description="prefix for a listing's relative paths"),
        "domains": Param([], type="array", description="only these hosts (and subdomains)"),
        "languages": Param([], type="array", description="only pages declaring these languages (or none)"),
        "since": Param("", type="string", description="captures on or after this date (UTC)"),
        "until": Param("", type="string", description="captures before this date (UTC)"),
        "batch_size": Param(500, type="integer", minimum=1, description="articles per lake batch"),
        "passes": Param(2, type="integer", enum=[1, 2],
                        description="trafilatura passes per page: 2 for the best text, 1 for about 1.7x the pages/s"),
    },
)
def newsflow_backfill() -> None:
    @task
    def list_files() -> list[str]:
        """The WARC files to read (listings resolved); URIs only."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import settings_from_airflow

        from pipeline.feeds.warc import resolve_sources

        params = get_current_context()["params"]
        files = resolve_sources(params["sources"], params["base"] or "", settings_from_airflow())
        log.info("backfill: %d WARC files", len(files))
        return files

    # a big file may outlast the timeout: the retry resumes at the last committed offset
    @task(pool=BACKFILL_POOL, execution_timeout=timedelta(hours=2), retries=10,
          map_index_template="{{ task.op_kwargs['source'].rsplit('/', 1)[-1] }}")
    def backfill_file(source: str) -> dict[str, Any]:
        """One WARC file into the lake, resuming at its committed offset."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, settings_from_airflow

        from pipeline.backfill import backfill_file as run_file
        from pipeline.backfill_cli import filters_from
        from pipeline.lake.articles import known_entries
        from pipeline.lake.store import open_store

        context = get_current_context()
        params = context["params"]
        settings = settings_from_airflow()
        store = open_store(settings)
        # extraction in this process: Airflow already runs one task per file, in parallel in the pool
        r = run_file(settings, store, source, filters_from(params["domains"], params["languages"],
                                                           params["since"], params["until"]),
                     run_ts=run_ts_from_context(context), seen=set(), known=known_entries(store),
                     batch_size=int(params["batch_size"]), passes=int(params.get("passes", 2)))
        result = {"source": source, "records": r.records, "pages": r.pages, "articles": r.articles,
                  "batches": len(r.batches), "duplicates": r.duplicates, "resumed_at": r.resumed_at,
                  "skipped": r.skipped, "rejects": r.rejects}
        log.info("backfill file: %s", result)
        return result

    @task
    def dedup(files: list[dict[str, Any]]) -> dict[str, Any]:
        """Stories over everything, the backfilled batches included."""
        from newsflow_airflow import tasks

        return tasks.dedup(backfilled_articles=sum(f["articles"] for f in files))

    @task
    def load_warehouse(dedup_result: dict[str, Any]) -> dict[str, Any]:
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, tasks

        return tasks.load_warehouse(dedup_result, run_ts=run_ts_from_context(get_current_context()))

    @task(outlets=[WAREHOUSE])
    def refresh_related(load_result: dict[str, Any]) -> dict[str, Any]:
        from airflow.sdk import get_current_context
        from newsflow_airflow import tasks

        return tasks.refresh_related(load_result, get_current_context(), WAREHOUSE, backfill=True)

    @task(execution_timeout=timedelta(minutes=10))
    def record_metrics() -> dict[str, Any]:
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, tasks

        return tasks.record_metrics(run_ts_from_context(get_current_context()))

    done = backfill_file.expand(source=list_files())
    refresh_related(load_warehouse(dedup(done))) >> record_metrics().as_teardown()


newsflow_backfill()
