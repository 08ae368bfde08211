"""
### newsflow_reprocess

Replays the **raw zone** for one data interval, without touching the network: the feed
bodies first fetched in `[data_interval_start, data_interval_end)` are parsed again,
their pages are taken from the raw zone, and the articles are written as a new lake
batch (`replay_raw`); then `dedup` -> `load_warehouse` -> `refresh_related` rebuild the
lake's dedup generation, the warehouse rows and the related lists, exactly as
`newsflow_process` does.  `record_metrics` (teardown) loads the run metrics.

Use it after fixing a parser or an extractor, to rebuild any past window:

    airflow backfill create --dag-id newsflow_reprocess \\
        --from-date 2025-10-01 --to-date 2025-10-07 --reprocess-behavior completed

* **Schedule**: a data-interval timetable (`NEWSFLOW_REPROCESS_SCHEDULE`, default
  `@daily`, UTC), so each run owns one interval and a backfill splits a window into
  intervals.  The DAG is **paused when created**: it exists for backfills and manual
  runs; unpause it only to replay every interval continuously.  `catchup` follows
  `NEWSFLOW_REPROCESS_CATCHUP` (default off) for deployments that want every interval
  since `start_date` replayed on unpause.
* **Idempotent**: the batch key derives from the run's logical date and the content,
  the warehouse upserts by article id, and the dedup/related stages recompute from the
  lake, so running an interval twice leaves the lake and warehouse as after the first.
* An interval without raw feed bodies skips the downstream stages (nothing to do).
* `max_active_runs=1`: stages of two intervals never write the warehouse at once.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task
from airflow.sdk.exceptions import AirflowSkipException
from newsflow_dag_args import default_args

log = logging.getLogger(__name__)

# Same URI as newsflow_process emits: consumers of the warehouse see reprocessing too.
WAREHOUSE = Asset("newsflow-warehouse", uri="x-newsflow://warehouse/articles")

DEFAULT_ARGS = default_args(execution_timeout=timedelta(hours=1))


def _interval(context: Any) -> tuple[datetime, datetime]:
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None or start >= end:
        raise ValueError(f"newsflow_reprocess needs a data interval, got [{start}, {end}): "
                         "trigger it with a logical date or through `airflow backfill create`")
    return start, end


@dag(
    dag_id="newsflow_reprocess",
    schedule=CronDataIntervalTimetable(os.environ.get("NEWSFLOW_REPROCESS_SCHEDULE", "@daily"), timezone="UTC"),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=os.environ.get("NEWSFLOW_REPROCESS_CATCHUP", "0").strip().lower() in {"1", "true", "yes"},
    is_paused_upon_creation=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "reprocess", "backfill"],
    doc_md=__doc__,
)
def newsflow_reprocess() -> None:
    @task
    def replay_raw() -> dict[str, Any]:
        """Parse the interval's raw feed bodies again into one lake batch (no network)."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, settings_from_airflow

        from pipeline.feeds.replay import replay_ingest

        context = get_current_context()
        since, until = _interval(context)
        run_ts = run_ts_from_context(context)
        report, bodies = replay_ingest(settings_from_airflow(), since=since, until=until, run_ts=run_ts)
        result = {"since": since.isoformat(), "until": until.isoformat(), "feed_bodies": bodies,
                  "feeds_ok": report.feeds_ok, "feeds_failed": report.feeds_failed,
                  "entries": report.entries, "articles": report.articles_new,
                  "batch_uri": report.batch_uri, "rejects_by_reason": report.rejects_by_reason}
        log.info("replay: %s", result)
        if not bodies:
            raise AirflowSkipException(f"no raw feed bodies first fetched in [{since}, {until}): nothing to replay")
        return result

    # The bodies live in newsflow_airflow.tasks, shared with newsflow_process.
    @task
    def dedup(replayed: dict[str, Any]) -> dict[str, Any]:
        """Recompute story clusters over the lake, including the replayed batch."""
        from newsflow_airflow import tasks

        return tasks.dedup(replayed_batch=replayed["batch_uri"])

    @task
    def load_warehouse(dedup_result: dict[str, Any]) -> dict[str, Any]:
        """Upsert the replayed batch and the new dedup generation into the warehouse."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, tasks

        return tasks.load_warehouse(dedup_result, run_ts=run_ts_from_context(get_current_context()))

    @task(outlets=[WAREHOUSE])
    def refresh_related(load_result: dict[str, Any]) -> dict[str, Any]:
        """Recompute related lists; publish the warehouse asset with the counts and the interval."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import tasks

        context = get_current_context()
        since, until = _interval(context)
        return tasks.refresh_related(load_result, context, WAREHOUSE, reprocessed_since=since.isoformat(),
                                     reprocessed_until=until.isoformat())

    @task(execution_timeout=timedelta(minutes=10))
    def record_metrics() -> dict[str, Any]:
        """Load buffered run-metrics records into ``run_metrics``."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, tasks

        return tasks.record_metrics(run_ts_from_context(get_current_context()))

    refresh_related(load_warehouse(dedup(replay_raw()))) >> record_metrics().as_teardown()


newsflow_reprocess()
