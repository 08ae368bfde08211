"""PostgreSQL backend (psycopg 3): concurrent writers, GIN-indexed text search.

Settings: ``NEWSFLOW_WAREHOUSE=postgresql://user@host:5432/db`` and optionally
``NEWSFLOW_WAREHOUSE_SCHEMA`` (created on first write; default: the server's search_path,
usually ``public``).  Staged Arrow tables become session temp tables filled with COPY.
Identifiers (schema, staged table names) are composed with ``psycopg.sql.Identifier`` from
the templates in ``sql/postgres/internal/``; values are always parameters.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from pipeline.config import Settings
from pipeline.warehouse.backend import SQL_ROOT, Backend, Params, WarehouseError

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_INTERNAL = SQL_ROOT / "postgres" / "internal"


def _internal(name: str) -> str:
    return "\n".join(
        line for line in (_INTERNAL / f"{name}.sql").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--")
    ).strip().rstrip(";")


def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t):
        return "double precision"
    if pa.types.is_timestamp(t):
        return "timestamptz"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _pg_type(t.value_type) + "[]"
    return "text"


def _array_literal(values: list | None) -> str | None:
    """A PostgreSQL array literal (``{"a","b"}``) of a list of scalars; NULL for NULL."""
    if values is None:
        return None
    items = ("NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(items) + "}"


def _csv_ready(table: pa.Table) -> pa.Table | None:
    """``table`` with list columns of scalars as array-literal text, ready for Arrow's CSV
    writer; None when a column has a type CSV cannot carry (structs: row by row instead).

    Why: COPY fed row by row from Python lists ran at about 12,000 rows/s; CSV written by
    Arrow runs at COPY's own speed, and only list columns (authors, tags) pass through Python."""
    for i, f in enumerate(table.schema):
        t = f.type
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            if pa.types.is_nested(t.value_type):
                return None
            text = pa.array([_array_literal(v) for v in table.column(i).to_pylist()], pa.string())
            table = table.set_column(i, f.name, text)
        elif pa.types.is_nested(t) or pa.types.is_dictionary(t) or pa.types.is_binary(t):
            return None
    return table


def _csv_bytes(batch: pa.RecordBatch) -> bytes:
    import io

    from pyarrow import csv

    buf = io.BytesIO()
    csv.write_csv(batch, buf, csv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def conninfo(settings: Settings) -> str:
    """The libpq URL of ``settings.warehouse`` (``postgresql+psycopg://`` accepted)."""
    url = settings.warehouse
    scheme, _, rest = url.partition("://")
    return "postgresql://" + rest if scheme.split("+")[0] in {"postgresql", "postgres"} else url


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, conn: Any, read_only: bool) -> None:
        self.conn, self.read_only = conn, read_only

    @classmethod
    def open(cls, settings: Settings, *, read_only: bool = False) -> PostgresBackend:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise WarehouseError("the postgres warehouse needs psycopg: pip install 'newsflow[postgres]'") from exc
        from psycopg import sql

        schema = settings.warehouse_schema
        if schema and not _IDENT.match(schema):
            raise WarehouseError(f"warehouse_schema {schema!r} must match {_IDENT.pattern}")
        try:
            # application_name lets an operator (and the fault tests) find this process's
            # sessions in pg_stat_activity
            conn = psycopg.connect(conninfo(settings), autocommit=True, connect_timeout=10,
                                   application_name=f"newsflow-{os.getpid()}")
        except psycopg.OperationalError as exc:
            from pipeline.redact import redact_url

            first = (str(exc).strip().splitlines() or ["no answer"])[0]
            raise WarehouseError(f"cannot reach the warehouse {redact_url(settings.warehouse)}: {first}",
                                 "check NEWSFLOW_WAREHOUSE and that PostgreSQL is up; the lake keeps "
                                 "every batch and the next run loads it") from exc
        try:
            if schema:
                if not read_only:
                    conn.execute(sql.SQL(_internal("create_schema")).format(schema=sql.Identifier(schema)))
                conn.execute(_internal("set_config"), ["search_path", sql.Identifier(schema).as_string(conn)])
            if read_only:
                conn.execute(_internal("set_config"), ["default_transaction_read_only", "on"])
        except BaseException:
            conn.close()
            raise
        be = cls(conn, read_only)
        if not read_only:
            be.script("writer_session")  # staged temp tables stay in memory
        return be

    def _execute(self, text: str, params: Params = None) -> Any:
        return self.conn.execute(text, params, prepare=False)

    def stage(self, name: str, table: pa.Table, *, like: str | None = None) -> None:
        from psycopg import sql

        if not _IDENT.match(name) or (like and not _IDENT.match(like)):
            raise WarehouseError(f"bad staging name {name!r}")
        if like:
            cols = self.columns(like)
            table = table.select([c for c in table.column_names if c in cols])
        self.conn.execute(sql.SQL(_internal("stage_drop")).format(name=sql.Identifier(name)))
        if like:
            self.conn.execute(sql.SQL(_internal("stage_like")).format(name=sql.Identifier(name), like=sql.Identifier(like)))
        else:
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_pg_type(f.type))) for f in table.schema
            )
            self.conn.execute(sql.SQL(_internal("stage_columns")).format(name=sql.Identifier(name), columns=columns))
        csv_ready = _csv_ready(table)
        copy_sql = sql.SQL(_internal("copy_in_csv" if csv_ready is not None else "copy_in")).format(
            name=sql.Identifier(name), columns=sql.SQL(", ").join(map(sql.Identifier, table.column_names))
        )
        with self.conn.cursor() as cur, cur.copy(copy_sql) as copy:
            if csv_ready is not None:  # the rows as CSV written by Arrow's C++ writer, in chunks
                for batch in csv_ready.to_batches(max_chunksize=20_000):
                    copy.write(_csv_bytes(batch))
                return
            for batch in table.to_batches(max_chunksize=5000):  # nested types: row by row
                columns = [c.to_pylist() for c in batch.columns]
                for row in zip(*columns, strict=True):
                    copy.write_row(row)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PostgresBackend]:
        with self.conn.transaction():
            yield self

    def lock(self, key: str) -> None:
        self.conn.execute(_internal("advisory_lock"), [key])

    def close(self) -> None:
        self.conn.close()

    def size_bytes(self) -> int:
        return int(self.conn.execute(_internal("size")).fetchone()[0] or 0)

    def is_busy_error(self, exc: BaseException) -> bool:
        from psycopg import errors

        return isinstance(exc, errors.DeadlockDetected | errors.SerializationFailure | errors.UniqueViolation)

    def is_connection_lost(self, exc: BaseException) -> bool:
        import psycopg

        if isinstance(exc, psycopg.InterfaceError):  # "the connection is closed"
            return True
        if isinstance(exc, psycopg.OperationalError):  # terminated, server restart, network
            state = getattr(exc, "sqlstate", None)  # None: the client lost the socket
            return state is None or state in ("57P01", "57P02", "57P03") or state.startswith("08")
        return False
