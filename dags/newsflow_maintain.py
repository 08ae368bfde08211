"""
### newsflow_maintain

Keeps the lake's Delta tables healthy (issue 14), the same functions as `newsflow lake
compact` and `newsflow lake vacuum`:

* `compact`: merges the small files each ingest batch leaves behind into large ones, per
  table and partition.  A compaction commit changes no data: batch ids stay on every row,
  so the warehouse load ledger and the dedup/related progress never notice it.
* `vacuum` (after `compact`): deletes files no version within the retention references
  (`NEWSFLOW_LAKE_RETAIN_HOURS`, default 168).  The retention is stretched so that no
  version a consumer (dedup, the warehouse load, the related refresh) has not read yet
  is ever removed; a table a consumer has never read is not vacuumed at all.

* **Schedule**: `NEWSFLOW_MAINTAIN_SCHEDULE` (default `@daily`), `max_active_runs=1`.
  Settings come from the `newsflow_lake` connection at run time, never at parse time.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, task
from newsflow_dag_args import default_args

log = logging.getLogger(__name__)

DEFAULT_ARGS = default_args(execution_timeout=timedelta(hours=2), retry_delay=timedelta(minutes=5),
                            max_retry_delay=timedelta(minutes=30))


@dag(
    dag_id="newsflow_maintain",
    schedule=os.environ.get("NEWSFLOW_MAINTAIN_SCHEDULE", "@daily"),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    is_paused_upon_creation=False,  # compaction and expiry are safe to run as soon as deployed
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "lake", "maintenance"],
    doc_md=__doc__,
)
def newsflow_maintain() -> None:
    @task
    def compact() -> list[dict[str, Any]]:
        """Merge small files of every table (data and batch ids unchanged)."""
        from newsflow_airflow import settings_from_airflow

        from pipeline.lake.maintenance import compact as run_compact
        from pipeline.lake.store import open_store

        results = [r.__dict__ for r in run_compact(open_store(settings_from_airflow()))]
        log.info("compact: %s", results)
        return results

    @task
    def vacuum(compacted: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Delete unreferenced files, keeping every version a consumer has not read."""
        from newsflow_airflow import settings_from_airflow

        from pipeline.lake.maintenance import vacuum as run_vacuum
        from pipeline.lake.store import open_store

        hours = float(os.environ.get("NEWSFLOW_LAKE_RETAIN_HOURS", "168"))
        results = [r.__dict__ for r in run_vacuum(open_store(settings_from_airflow()), retain_hours=hours)]
        log.info("vacuum after compacting %d tables: %s", len(compacted), results)
        return results

    vacuum(compact())


newsflow_maintain()
