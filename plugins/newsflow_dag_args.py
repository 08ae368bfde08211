"""Task defaults every newsflow DAG shares: the owner, retries with exponential backoff,
and the run-metrics callbacks that record every task try whatever its outcome.

In the plugins folder, which Airflow puts on ``sys.path`` everywhere, but outside the
``newsflow_airflow`` package (whose import loads the connection and settings glue): it
imports nothing beyond the standard library, so DAG files take it at parse time.  The
callbacks import the plugin only when a task try ends.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any


def _metrics_success(context: Any) -> None:
    from newsflow_airflow.metrics import on_success

    on_success(context)


def _metrics_failure(context: Any) -> None:
    from newsflow_airflow.metrics import on_failure

    on_failure(context)


def _metrics_retry(context: Any) -> None:
    from newsflow_airflow.metrics import on_retry

    on_retry(context)


def default_args(*, execution_timeout: timedelta, retry_delay: timedelta = timedelta(minutes=1),
                 max_retry_delay: timedelta = timedelta(minutes=20)) -> dict[str, Any]:
    """``default_args`` for a newsflow DAG; each DAG says how long its tasks may run."""
    return {
        "owner": "newsflow-data-eng",
        "retries": 3,
        "retry_delay": retry_delay,
        # Airflow 3.3: a multiplier (True is still accepted and read as 2.0; 0 disables it)
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": max_retry_delay,
        "execution_timeout": execution_timeout,
        "on_success_callback": _metrics_success,
        "on_failure_callback": _metrics_failure,
        "on_retry_callback": _metrics_retry,
    }
