"""Airflow-facing glue for newsflow: Connections -> Settings, run timestamps, feed shards.

Lives in the Airflow plugins folder (Airflow puts that folder on ``sys.path`` for the
scheduler, the DAG processor and every task), so DAG tasks import it *inside* the task
function.  Nothing in here imports heavy libraries at import time, and nothing here is
needed by the CLI: ``pipeline/`` never imports this package.
"""

from newsflow_airflow.connections import (
    LAKE_CONN_ID,
    WAREHOUSE_CONN_ID,
    lake_overrides,
    settings_from_airflow,
    warehouse_overrides,
)
from newsflow_airflow.runtime import run_ts_from_context
from newsflow_airflow.sharding import shard_feeds

__all__ = [
    "LAKE_CONN_ID",
    "WAREHOUSE_CONN_ID",
    "lake_overrides",
    "run_ts_from_context",
    "settings_from_airflow",
    "shard_feeds",
    "warehouse_overrides",
]
