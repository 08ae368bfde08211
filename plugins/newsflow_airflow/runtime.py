"""The timestamp a task hands to the pipeline as ``run_ts``.

Why not ``now()``: a retried or cleared task must write the same batch keys and
warehouse rows as its first try, so ``run_ts`` comes from the DAG run, which Airflow
stores.  Time-scheduled runs have a logical date; asset-triggered runs in Airflow 3
have ``logical_date = None``, so we fall back to the data interval end and finally to
``dag_run.run_after`` (also persisted with the run, so still stable across retries).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def run_ts_from_context(context: Mapping[str, Any]) -> datetime:
    """UTC ``run_ts`` for this DAG run; raises if the context carries no run time at all."""
    dag_run = context.get("dag_run")
    candidates = (
        context.get("logical_date"),
        context.get("data_interval_end"),
        getattr(dag_run, "logical_date", None),
        getattr(dag_run, "run_after", None),
    )
    for value in candidates:
        if value is not None:
            return _as_utc(value)
    raise ValueError("task context has no logical_date, data_interval_end or run_after")


def _as_utc(value: datetime) -> datetime:
    # pendulum DateTime is a datetime subclass; normalise to a plain aware UTC datetime
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond, tzinfo=UTC,
    )
