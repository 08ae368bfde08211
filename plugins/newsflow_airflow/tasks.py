"""The task bodies the process and reprocess DAGs share.

Why a library: the two DAGs run the same stages (dedup, warehouse load, related refresh,
run metrics) and differ only in what comes first (the ingest asset, or a replay of the raw
zone) and what they report.  Copies drift: the reprocess copy had lost the log line for
each batch that failed to load.  The DAG files keep only the wiring and call these inside
their ``@task`` functions, so nothing here is imported at parse time.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

log = logging.getLogger("newsflow_airflow.tasks")


def dedup(**extra: Any) -> dict[str, Any]:
    """Cluster every committed article into stories; ``extra`` joins the returned counts."""
    from newsflow_airflow import settings_from_airflow
    from pipeline.stages import dedup as run_dedup

    report = run_dedup(settings_from_airflow())
    result = {"generation_id": report.generation_id, "articles": report.articles,
              "counts": dict(report.counts), **extra}  # duplicates by kind: exact, near, translation
    log.info("dedup: %s", result)
    return result


def load_warehouse(dedup_result: dict[str, Any], *, run_ts: datetime) -> dict[str, Any]:
    """Merge new lake batches and the latest dedup generation; log every batch not loaded."""
    from newsflow_airflow import settings_from_airflow
    from pipeline.stages import load_warehouse as run_load

    report = run_load(settings_from_airflow(), run_ts=run_ts)
    result = {"batches_loaded": report.batches_loaded, "rows_loaded": report.rows_loaded,
              "dedup_generation": report.dedup_generation, "search_indexed": report.search_indexed,
              "batches_failed": report.batches_failed}
    for failure in report.failures[:20]:
        log.error("batch not loaded (kept in the lake, retried next run): %s", failure)
    if report.dedup_generation != dedup_result["generation_id"]:
        log.warning("warehouse holds dedup generation %s, dedup wrote %s (a newer batch landed?)",
                    report.dedup_generation, dedup_result["generation_id"])
    log.info("load: %s", result)
    return result


def refresh_related(load_result: dict[str, Any], context: Any, asset: Any, **extra: Any) -> dict[str, Any]:
    """Recompute related lists; publish ``asset`` with the counts (and ``extra``)."""
    from newsflow_airflow import settings_from_airflow
    from pipeline.stages import refresh_related as run_related

    report = run_related(settings_from_airflow())
    result = {"canonicals": report.canonicals, "rows": report.rows,
              "dedup_generation": load_result["dedup_generation"], "rows_loaded": load_result["rows_loaded"],
              **extra}
    log.info("related: %s", result)
    context["outlet_events"][asset].extra = result
    return result


def record_metrics(run_ts: datetime) -> dict[str, Any]:
    """Load the buffered run-metrics records into ``run_metrics`` (the one warehouse writer now)."""
    from newsflow_airflow import settings_from_airflow
    from newsflow_airflow.metrics import flush_metrics

    return flush_metrics(settings_from_airflow(), recorded_at=run_ts)
