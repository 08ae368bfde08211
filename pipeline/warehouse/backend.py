"""One contract, two warehouses: DuckDB (embedded default) and PostgreSQL (servers).

Every stage talks to the warehouse through a :class:`Backend`: it runs SQL *files* by name
(``sql/<backend>/<name>.sql``, values always as parameters), stages an Arrow table under a
name the SQL can read, wraps writes in a transaction, and applies migrations
(``sql/<backend>/NNN_*.sql``) recorded in ``schema_migrations``.  Parameters are passed as
a dict; each backend's SQL uses its native named style (DuckDB ``$name``, PostgreSQL
``%(name)s``), or a list for positional SQL.

Migration numbers: 001 core tables, 002 feed health (issue 3), 003 dedup (issue 5), 004+
warehouse (issue 6).  A migration that lands later with a lower number is still applied:
the runner applies every version not yet recorded, in number order.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.config import Settings
from pipeline.errors import Failure, ServiceUnavailable

# The SQL ships inside the package (``pipeline/sql``; ``sql/`` at the repository root is a
# link to it), so an installed wheel finds it wherever it runs.  ``importlib.resources`` on a
# regular (unzipped) package gives a real directory, which DuckDB and psycopg callers need.
SQL_ROOT = Path(str(resources.files("pipeline").joinpath("sql")))
_MIGRATION = re.compile(r"^(\d{3})_[\w-]+\.sql$")

Params = dict[str, Any] | Sequence[Any] | None


class WarehouseError(ServiceUnavailable, RuntimeError):
    """A warehouse problem worth a clear message (misconfiguration, unreachable, ...).

    Messages never carry the URL's password (``pipeline.redact.redact_url``).
    """

    default_hint = "check NEWSFLOW_WAREHOUSE and that the warehouse is up; the lake keeps every batch"


class WarehouseBusy(WarehouseError):
    """Another process (an analyst's read-only shell, a foreign writer) holds the DuckDB
    file: the load is deferred, never failed (the lake keeps the batches, the next run
    loads them)."""

    exit_code = Failure.exit_code  # a stage that could not finish
    default_hint = ("another process holds the DuckDB file, e.g. an open `duckdb` shell; the load is "
                    "deferred to the next run; analysts should open the read copy (docs/operations.md)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


@dataclass(frozen=True)
class MigrationStatus:
    version: int
    name: str
    applied_at: datetime | None

    @property
    def applied(self) -> bool:
        return self.applied_at is not None


def split_statements(text: str) -> list[str]:
    """Split a SQL file into statements (``;`` at a line end), dropping ``--`` comment lines.

    Statements run one by one because a DuckDB PRAGMA must see tables made before it.
    """
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip().rstrip(";") for s in re.split(r";\s*\n", body + "\n") if s.strip().rstrip(";").strip()]


@functools.lru_cache(maxsize=512)
def _sql_text(path: str, stamp: int) -> str:
    """A SQL file's statements, read once per version (a search runs several queries;
    reading each file every time cost about 1 ms a query under load)."""
    # Full-line comments go: psycopg would read a ``%s`` in a comment as a placeholder.
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("--"))


class Backend:
    """What a warehouse backend offers to the stages; see the module docstring."""

    name: str = ""
    read_only: bool = False

    # -- SQL files ---------------------------------------------------------------------
    @property
    def sql_dir(self) -> Path:
        return SQL_ROOT / self.name

    def sql(self, name: str) -> str:
        """The text of ``sql/<backend>/<name>.sql``."""
        path = self.sql_dir / f"{name}.sql"
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            raise WarehouseError(f"no SQL file sql/{path.relative_to(SQL_ROOT)}") from None
        return _sql_text(str(path), stamp)

    # -- to implement ------------------------------------------------------------------
    def _execute(self, text: str, params: Params = None) -> Any:  # returns a cursor
        raise NotImplementedError

    def stage(self, name: str, table: pa.Table, *, like: str | None = None) -> None:
        """Make ``table`` readable by SQL as ``name`` (for the current connection).

        ``like``: a warehouse table whose column types the staged table takes; columns of
        ``table`` the target does not have are dropped, missing ones read as NULL.
        """
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Backend]:
        raise NotImplementedError
        yield self

    def lock(self, key: str) -> None:
        """Serialize writers on ``key`` until the current transaction ends."""

    def close(self) -> None:
        raise NotImplementedError

    def size_bytes(self) -> int:
        raise NotImplementedError

    def is_busy_error(self, exc: BaseException) -> bool:
        """A transient conflict (deadlock, serialization, write-write) worth a retry."""
        return False

    def is_connection_lost(self, exc: BaseException) -> bool:
        """The connection itself is gone (server restart, terminated, network): only a new
        connection helps, and every unit the stage had not committed must run again."""
        return False

    # -- running SQL files ---------------------------------------------------------------
    def execute(self, name: str, params: Params = None) -> None:
        """Run the one statement of ``<name>.sql``."""
        self._execute(self.sql(name), params)

    def script(self, name: str, params: Params = None) -> None:
        """Run every statement of ``<name>.sql`` in order (same parameters for each)."""
        self.run_script_text(self.sql(name), params)

    def run_script_text(self, text: str, params: Params = None) -> None:
        for statement in split_statements(text):
            self._execute(statement, params)

    def query(self, name: str, params: Params = None) -> list[dict[str, Any]]:
        """Rows of ``<name>.sql`` as dicts."""
        cur = self._execute(self.sql(name), params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def query_keys(self, name: str, param: str, keys: Sequence[str]) -> list[dict[str, Any]]:
        """Rows of ``<name>.sql`` for a list of keys (ids), passed as ``$<param>``; a backend
        may plan such a lookup better than a generic list parameter (DuckDB does)."""
        return self.query(name, {param: list(keys)})

    def scalar(self, name: str, params: Params = None) -> Any:
        row = self._execute(self.sql(name), params).fetchone()
        return row[0] if row else None

    def columns(self, table: str) -> set[str]:
        """The columns of a warehouse table, read once per connection (``stage(like=)`` asks
        for every batch: 25 ms a time on DuckDB); ``migrate`` forgets them."""
        cache = self.__dict__.setdefault("_columns", {})
        if table not in cache:
            cache[table] = {r["column_name"] for r in self.query("table_columns", {"table": table})}
        return cache[table]

    # -- migrations ----------------------------------------------------------------------
    def migrations(self) -> list[Migration]:
        out = []
        for p in sorted(self.sql_dir.iterdir()):
            m = _MIGRATION.match(p.name)
            if m:
                out.append(Migration(int(m.group(1)), p.name, p))
        return out

    def status(self) -> list[MigrationStatus]:
        """Every known migration with its applied time (None: pending)."""
        applied: dict[int, datetime] = {}
        if self.scalar("migrations_table_exists"):
            applied = {r["version"]: r["applied_at"] for r in self.query("migrations_applied")}
        known = {m.version: m.name for m in self.migrations()}
        rows = [MigrationStatus(v, known.get(v, "?"), applied.get(v)) for v in sorted(set(known) | set(applied))]
        return rows

    def migrate(self) -> list[int]:
        """Apply migrations not yet recorded, each in its own transaction; return them."""
        if self.read_only:
            raise WarehouseError("cannot migrate through a read-only connection")
        self.__dict__.pop("_columns", None)
        with self.transaction():
            self.lock("migrations")
            self.script("migrations_init")
        applied = []
        for m in self.migrations():
            with self.transaction():
                self.lock("migrations")  # two first loads at once: one migrates, one waits
                done = {r["version"] for r in self.query("migrations_applied")}
                if m.version in done:
                    continue
                self.run_script_text(m.path.read_text(encoding="utf-8"))
                self.execute("migration_record", {"version": m.version, "name": m.name})
            applied.append(m.version)
        return applied

    def pending(self) -> list[int]:
        return [s.version for s in self.status() if not s.applied]

    # -- load ledger -----------------------------------------------------------------------
    def loaded_batches(self, kind: str) -> set[str]:
        return {r["batch_id"] for r in self.query("ledger_loaded", {"kind": kind})}

    def record_batch(self, kind: str, batch_id: str, rows: int, loaded_at: datetime) -> None:
        self.execute("ledger_record", {"kind": kind, "batch_id": batch_id, "rows": rows, "loaded_at": loaded_at})


def backend_name(settings: Settings) -> str:
    scheme = settings.warehouse_backend
    if scheme == "duckdb":
        return "duckdb"
    if scheme in {"postgresql", "postgres"}:
        return "postgres"
    from pipeline.redact import redact_url

    raise WarehouseError(f"unsupported warehouse URL {redact_url(settings.warehouse)!r}",
                         "use duckdb:///path.duckdb or postgresql://user@host:5432/db")


@contextlib.contextmanager
def open_backend(settings: Settings, *, read_only: bool = False) -> Iterator[Backend]:
    """A connection to the configured warehouse, closed on exit.

    Writers (``read_only=False``) on DuckDB are serialized per file across threads and
    processes (DuckDB allows one writing process); readers open short read-only
    connections.  PostgreSQL writers run concurrently.
    """
    name = backend_name(settings)
    if name == "duckdb":
        from pipeline.warehouse.backend_duckdb import DuckDBBackend

        be: Backend = DuckDBBackend.open(settings, read_only=read_only)
    else:
        from pipeline.warehouse.backend_postgres import PostgresBackend

        be = PostgresBackend.open(settings, read_only=read_only)
    try:
        yield be
    finally:
        be.close()


def change_signature(settings: Settings) -> tuple | None:
    """What changes whenever a DuckDB warehouse commits: identity, size and modification
    time of its file and its write-ahead log (a commit appends to the log; a checkpoint
    rewrites the file).  A poller that sees the same signature need not open the file: at
    a million articles an open costs about 0.1 s of CPU.  None for PostgreSQL (ask it)."""
    if backend_name(settings) != "duckdb" or settings.duckdb_path == ":memory:":
        return None
    import os

    out = []
    for p in (settings.duckdb_path, settings.duckdb_path + ".wal"):
        try:
            st = os.stat(p)
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def warehouse_exists(settings: Settings) -> bool:
    """Whether there is something to read (a DuckDB file, or any reachable PostgreSQL)."""
    if backend_name(settings) == "duckdb":
        import os

        return settings.duckdb_path == ":memory:" or os.path.exists(settings.duckdb_path)
    return True
