"""DuckDB warehouse: connections, migrations, loads, search, related lookups.

DuckDB allows one writing process per file, so writers open a connection for the length of
one stage and readers (the API, ``newsflow search``) open short read-only connections.
All SQL text lives in ``sql/duckdb/``; values travel as parameters, never in SQL strings.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.config import Settings

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "duckdb"
_MIGRATION = re.compile(r"^(\d{3})_[\w-]+\.sql$")


def sql(name: str) -> str:
    """The text of ``sql/duckdb/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def execute_script(conn: duckdb.DuckDBPyConnection, text: str) -> None:
    """Run a SQL file statement by statement (a PRAGMA must see the tables made before it)."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    for statement in body.split(";\n"):
        if statement.strip().rstrip(";"):
            conn.execute(statement)


def _load_fts(conn: duckdb.DuckDBPyConnection) -> bool:
    """Load the fts extension from the ``duckdb-extension-fts`` wheel (offline)."""
    try:
        import duckdb_extension_fts

        base = Path(duckdb_extension_fts.__file__).parent / "extensions"
        for path in sorted(base.glob(f"v{duckdb.__version__}/fts.duckdb_extension")):
            conn.execute(f"LOAD '{path.as_posix()}'")  # a file path from our own package
            return True
    except (ImportError, duckdb.Error):
        pass
    try:
        conn.execute("LOAD fts")
        return True
    except duckdb.Error:
        return False


@contextlib.contextmanager
def connect(settings: Settings, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    path = settings.duckdb_path
    if path != ":memory:" and not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(path, read_only=read_only)
    try:
        _load_fts(conn)
        yield conn
    finally:
        conn.close()


def migrations() -> list[tuple[int, Path]]:
    out = []
    for p in sorted(SQL_DIR.iterdir()):
        m = _MIGRATION.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    return out


def migrate(conn: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply migrations not yet recorded in ``schema_migrations``; return the applied ones."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT current_timestamp)"
    )
    done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, path in migrations():
        if version in done:
            continue
        conn.execute("BEGIN")
        try:
            execute_script(conn, path.read_text(encoding="utf-8"))
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, path.name])
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def loaded_batches(conn: duckdb.DuckDBPyConnection, kind: str) -> set[str]:
    return {b for (b,) in conn.execute("SELECT batch_id FROM load_ledger WHERE kind = ?", [kind]).fetchall()}


def load_articles(conn: duckdb.DuckDBPyConnection, batch_id: str, table: pa.Table, loaded_at: datetime) -> int:
    """Upsert one lake batch of articles and record it in the ledger, atomically."""
    conn.register("staged_articles", table.drop_columns([c for c in ("anchors",) if c in table.column_names]))
    conn.execute("BEGIN")
    try:
        conn.execute(sql("upsert_articles"))
        conn.execute(
            "INSERT OR REPLACE INTO load_ledger (kind, batch_id, rows, loaded_at) VALUES ('articles', ?, ?, ?)",
            [batch_id, table.num_rows, loaded_at],
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return table.num_rows


def apply_dedup(conn: duckdb.DuckDBPyConnection, generation: str, assignments: pa.Table, edges: pa.Table, loaded_at: datetime) -> None:
    conn.register("staged_assignments", assignments)
    conn.register("staged_edges", edges)
    conn.execute("BEGIN")
    try:
        execute_script(conn, sql("apply_dedup"))
        conn.execute(
            "INSERT OR REPLACE INTO load_ledger (kind, batch_id, rows, loaded_at) VALUES ('dedup', ?, ?, ?)",
            [generation, assignments.num_rows, loaded_at],
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


# One BM25 index per analysis (sql/duckdb/rebuild_search.sql): an index has one stemmer.
SEARCH_GROUPS = ("en", "ar")


def search_group(language: str | None) -> str:
    return language if language in SEARCH_GROUPS else "other"


def rebuild_search(conn: duckdb.DuckDBPyConnection, docs: pa.Table) -> bool:
    """Replace the search documents and their per-language BM25 indexes.

    ``docs`` has ``article_id``, ``language`` and ``doc`` (text already normalized for
    matching).  Returns False when the fts extension is unavailable.
    """
    groups = [search_group(x) for x in docs["language"].to_pylist()]
    conn.register("staged_search_docs", docs.append_column("lang_group", pa.array(groups, pa.string())))
    try:
        execute_script(conn, sql("rebuild_search"))
    except duckdb.Error:
        return False
    return True


def load_rejects(conn: duckdb.DuckDBPyConnection, batch_id: str, table: pa.Table, loaded_at: datetime) -> None:
    """Upsert one run's rejects (latest run wins per stage, URL and reason)."""
    conn.register("staged_rejects", table)
    conn.execute("BEGIN")
    try:
        conn.execute(sql("upsert_rejects"))
        conn.execute(
            "INSERT OR REPLACE INTO load_ledger (kind, batch_id, rows, loaded_at) VALUES ('rejects', ?, ?, ?)",
            [batch_id, table.num_rows, loaded_at],
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


def duckdb_file_exists(settings: Settings) -> bool:
    return settings.duckdb_path == ":memory:" or os.path.exists(settings.duckdb_path)
