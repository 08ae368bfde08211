"""Run metrics: task callbacks buffer one record per task try in the lake; one task loads them.

Why buffer: the DuckDB warehouse has one writer at a time.  Mapped fetch tasks finish in
parallel (on several Celery workers), and their callbacks writing to the warehouse would
queue behind each other and behind ``load_warehouse`` on the file lock (or, with another
DuckDB client holding the file, fail).  So a callback only writes a small JSON object to
the lake (``metrics/runs/<dag>/<run>/<task>.<map>.<try>.json``: one key per task try, so a
repeated callback rewrites the same object), and ``record_metrics`` - the last task of the
process and reprocess DAGs, in the one-slot ``newsflow_warehouse`` pool - upserts the
records it has not loaded yet into the ``run_metrics`` table (``sql/*/006_run_metrics.sql``)
through the warehouse backend abstraction, so DuckDB and PostgreSQL work the same way.

A callback must never fail its task: errors are logged, not raised.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.lake.store import ObjectStore

log = logging.getLogger(__name__)

PREFIX = "metrics/runs/"
LEDGER_KIND = "run_metrics"
_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def metric_key(row: Mapping[str, Any]) -> str:
    """The lake key of one task try's record (deterministic: a retried callback overwrites)."""
    parts = [_UNSAFE.sub("_", str(row[k])) for k in ("dag_id", "run_id")]
    name = f"{_UNSAFE.sub('_', row['task_id'])}.{int(row['map_index'])}.{int(row['try_number'])}.json"
    return PREFIX + "/".join(parts) + "/" + name


def metrics_row(context: Mapping[str, Any], state: str, *, now: datetime | None = None) -> dict[str, Any]:
    """One ``run_metrics`` row from a task callback's context (counts from the return XCom)."""
    ti = context["ti"]
    dag_run = context.get("dag_run")
    started = getattr(ti, "start_date", None)
    ended = getattr(ti, "end_date", None) or now or datetime.now(UTC)
    counts = _return_value(ti)
    exc = context.get("exception")
    return {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id if getattr(ti, "run_id", None) else getattr(dag_run, "run_id", ""),
        "task_id": ti.task_id,
        "map_index": int(getattr(ti, "map_index", -1) if getattr(ti, "map_index", None) is not None else -1),
        "try_number": int(getattr(ti, "try_number", 0) or 0),
        "state": state,
        "hostname": getattr(ti, "hostname", None),
        "started_at": _iso(started),
        "ended_at": _iso(ended),
        "duration_s": (ended - started).total_seconds() if started and ended else None,
        "label": getattr(ti, "rendered_map_index", None),
        "counts": counts if isinstance(counts, dict) else None,
        "error": f"{type(exc).__name__}: {exc}"[:2000] if exc is not None else None,
    }


def buffer_metrics(store: ObjectStore, row: Mapping[str, Any]) -> str:
    """Write one record to the lake; return its key."""
    key = metric_key(row)
    store.put(key, json.dumps(dict(row), sort_keys=True, default=str).encode())
    return key


def record_run_metrics(settings: Settings, rows: Iterable[Mapping[str, Any]], *, recorded_at: datetime,
                       keys: Iterable[str] = ()) -> int:
    """Upsert ``rows`` into ``run_metrics`` (one transaction; ``keys`` go to the load ledger)."""
    from pipeline.warehouse.backend import open_backend

    rows = list(rows)
    with open_backend(settings) as wh:
        wh.migrate()
        with wh.transaction():
            for row in rows:
                wh.execute("run_metrics_upsert", _params(row, recorded_at))
            for key in keys:
                wh.record_batch(LEDGER_KIND, key, 1, recorded_at)
    return len(rows)


def flush_metrics(settings: Settings, *, recorded_at: datetime, store: ObjectStore | None = None) -> dict[str, int]:
    """Load every buffered record not yet in the ledger; return counts for the task log."""
    from pipeline.lake.store import open_store
    from pipeline.warehouse.backend import open_backend

    store = store or open_store(settings)
    with open_backend(settings) as wh:
        wh.migrate()
        done = wh.loaded_batches(LEDGER_KIND)
    pending = [k for k in store.list(PREFIX) if k.endswith(".json") and k not in done]
    rows, ok_keys, bad = [], [], 0
    for key in pending:
        try:
            rows.append(json.loads(store.get(key)))
            ok_keys.append(key)
        except (ValueError, OSError) as exc:  # one unreadable record must not block the rest
            bad += 1
            log.warning("run metrics: skipping unreadable record %s: %s", key, exc)
    loaded = record_run_metrics(settings, rows, recorded_at=recorded_at, keys=ok_keys) if rows else 0
    by_state: dict[str, int] = {}
    for row in rows:
        by_state[row["state"]] = by_state.get(row["state"], 0) + 1
    result = {"records_loaded": loaded, "records_unreadable": bad, "already_loaded": len(done), **{
        f"state_{k}": v for k, v in sorted(by_state.items())}}
    log.info("run metrics: %s", result)
    return result


# -- Airflow callbacks -------------------------------------------------------------------

def on_success(context: Mapping[str, Any]) -> None:
    _callback(context, "success")


def on_failure(context: Mapping[str, Any]) -> None:
    _callback(context, "failed")


def on_retry(context: Mapping[str, Any]) -> None:
    _callback(context, "up_for_retry")


def callbacks() -> dict[str, Any]:
    """``default_args`` entries wiring the three callbacks into every task of a DAG."""
    return {"on_success_callback": on_success, "on_failure_callback": on_failure,
            "on_retry_callback": on_retry}


def _callback(context: Mapping[str, Any], state: str) -> None:
    try:
        from newsflow_airflow.connections import settings_from_airflow
        from pipeline.lake.store import open_store

        row = metrics_row(context, state)
        if state != "success":
            log.error("newsflow task %s.%s[%s] try %s %s: %s", row["dag_id"], row["task_id"],
                      row["label"] or row["map_index"], row["try_number"], state.replace("_", " "),
                      row["error"] or "no exception recorded")
        key = buffer_metrics(open_store(settings_from_airflow()), row)
        log.info("run metrics buffered at %s", key)
    except Exception:  # a metrics problem must never change the task's outcome
        log.exception("could not record run metrics (%s)", state)


def _return_value(ti: Any) -> Any:
    try:
        map_index = getattr(ti, "map_index", -1)
        kwargs = {"map_indexes": map_index} if map_index is not None and map_index >= 0 else {}
        return ti.xcom_pull(task_ids=ti.task_id, key="return_value", **kwargs)
    except Exception:
        return None


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _params(row: Mapping[str, Any], recorded_at: datetime) -> dict[str, Any]:
    return {
        "dag_id": row["dag_id"], "run_id": row["run_id"], "task_id": row["task_id"],
        "map_index": int(row["map_index"]), "try_number": int(row["try_number"]),
        "state": row["state"], "hostname": row.get("hostname"),
        "started_at": _dt(row.get("started_at")), "ended_at": _dt(row.get("ended_at")),
        "duration_s": row.get("duration_s"), "label": row.get("label"),
        "counts": json.dumps(row["counts"], sort_keys=True) if row.get("counts") is not None else None,
        "error": row.get("error"), "recorded_at": recorded_at,
    }


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
