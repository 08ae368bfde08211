"""Compatibility layer for code written before the backend abstraction (issue 6).

New code uses :func:`pipeline.warehouse.backend.open_backend`, which serves DuckDB and
PostgreSQL alike.  These helpers give a raw DuckDB connection (with the writer lock held)
for callers that still want one, e.g. ``pipeline/related/stage.py``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import duckdb

from pipeline.config import Settings
from pipeline.warehouse.backend import SQL_ROOT, split_statements
from pipeline.warehouse.backend_duckdb import DuckDBBackend
from pipeline.warehouse.loads import SEARCH_GROUPS, search_group

SQL_DIR = SQL_ROOT / "duckdb"

__all__ = ["SQL_DIR", "SEARCH_GROUPS", "search_group", "sql", "execute_script", "connect", "migrate", "duckdb_file_exists"]


def sql(name: str) -> str:
    """The text of ``sql/duckdb/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def execute_script(conn: duckdb.DuckDBPyConnection, text: str) -> None:
    """Run a SQL file statement by statement (a PRAGMA must see the tables made before it)."""
    for statement in split_statements(text):
        conn.execute(statement)


@contextlib.contextmanager
def connect(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection; writers hold the per-file writer lock until exit."""
    be = DuckDBBackend.open(settings, read_only=read_only)
    try:
        yield be.conn
    finally:
        be.close()


def migrate(conn: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations through an existing connection."""
    return DuckDBBackend(conn, "", False, None).migrate()


def duckdb_file_exists(settings: Settings) -> bool:
    return settings.duckdb_path == ":memory:" or os.path.exists(settings.duckdb_path)
