"""The pipeline's stages after ingest, each reading the previous stage's durable output.

The CLI and the Airflow DAGs call these same functions: one code path, two front doors.
Every stage takes ``run_ts`` from its caller (the CLI's start time or the DAG run's logical
date) instead of reading the clock, so a rerun writes the same keys and rows.
"""

from pipeline.dedup.stage import DedupReport, dedup
from pipeline.related.stage import RelatedReport, refresh_related
from pipeline.warehouse.stage import LoadReport, load_warehouse

__all__ = ["DedupReport", "LoadReport", "RelatedReport", "dedup", "load_warehouse", "refresh_related"]
