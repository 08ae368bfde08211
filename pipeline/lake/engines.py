"""Reading the lake's tables with outside engines: DuckDB (``delta`` extension), Polars, pyarrow.

These are the same recipes ``docs/lake.md`` gives analysts, kept as code so a test proves
them on a local folder and on an S3-compatible server.  The ``delta`` extension is
loaded from the ``duckdb-extension-delta`` wheel (no download: the machines that run
newsflow may have no route to extensions.duckdb.org); S3 settings go into a DuckDB
secret, never into a query string.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from pipeline.lake import tables
from pipeline.lake.arrowfs import arrow_filesystem
from pipeline.lake.store import ObjectStore


def load_extension(con, name: str) -> None:
    """``LOAD <name>`` from the ``duckdb-extension-<name>`` wheel matching this duckdb
    (falls back to DuckDB's own lookup, which downloads)."""
    import importlib

    import duckdb

    try:
        module = importlib.import_module(f"duckdb_extension_{name}")
        base = Path(module.__file__).parent / "extensions"
        for path in sorted(base.glob(f"v{duckdb.__version__}/{name}.duckdb_extension")):
            con.execute(f"LOAD '{path.as_posix()}'")  # a file path from our own dependency
            return
    except ImportError:
        pass
    con.execute(f"LOAD {name}")


def load_delta_extension(con) -> None:
    load_extension(con, "delta")


def duckdb_connection(store: ObjectStore):
    """An in-memory DuckDB with ``delta_scan`` ready for this lake (an S3 secret when on S3)."""
    import duckdb

    con = duckdb.connect()
    load_delta_extension(con)
    opts = tables.storage_options(store)
    if opts:
        load_extension(con, "httpfs")  # S3 secrets
        endpoint = opts.get("AWS_ENDPOINT_URL", "")
        parts = ["TYPE S3", "KEY_ID ?", "SECRET ?", "REGION ?"]
        params = [opts["AWS_ACCESS_KEY_ID"], opts["AWS_SECRET_ACCESS_KEY"], opts.get("AWS_REGION", "us-east-1")]
        if opts.get("AWS_SESSION_TOKEN"):
            parts.append("SESSION_TOKEN ?")
            params.append(opts["AWS_SESSION_TOKEN"])
        if endpoint:
            parts += ["ENDPOINT ?", "URL_STYLE 'path'", f"USE_SSL {'false' if endpoint.startswith('http:') else 'true'}"]
            params.append(endpoint.split("://", 1)[-1].rstrip("/"))
        sql = "CREATE SECRET newsflow_lake (" + ", ".join(parts) + ")"
        _create_secret(con, sql, params)
    return con


def _create_secret(con, sql: str, params: list[str]) -> None:
    # CREATE SECRET takes no prepared parameters: quote the values as SQL literals instead.
    it = iter(params)
    literal = "".join(part + (("'" + next(it).replace("'", "''") + "'") if i < sql.count("?") else "")
                      for i, part in enumerate(sql.split("?")))
    con.execute(literal)


def duckdb_read(store: ObjectStore, kind: str, con=None) -> pa.Table:
    """``SELECT * FROM delta_scan('<table uri>')`` as Arrow."""
    con = con or duckdb_connection(store)
    return con.execute(DELTA_SCAN, [tables.table_uri(store, kind)]).to_arrow_table()


DELTA_SCAN = "SELECT * FROM delta_scan(?)"  # the path as a parameter, never spliced into SQL


def polars_read(store: ObjectStore, kind: str):
    """``pl.read_delta(uri, storage_options=...)``."""
    import polars as pl

    opts = tables.storage_options(store)
    # Polars takes the credential and endpoint keys; its own retry options have other types
    opts = None if opts is None else {k: v for k, v in opts.items() if k.startswith("AWS_")}
    return pl.read_delta(tables.table_uri(store, kind), storage_options=opts)


def pyarrow_read(store: ObjectStore, kind: str) -> pa.Table:
    """``DeltaTable(uri, storage_options=...).to_pyarrow_dataset(filesystem=...).to_table()``
    with a native pyarrow filesystem rooted at the table (``arrowfs.arrow_filesystem`` says
    why: the default one can abort the process at exit)."""
    from deltalake import DeltaTable

    uri, opts = tables.table_uri(store, kind), tables.storage_options(store)
    dt = DeltaTable(uri, storage_options=opts)
    return dt.to_pyarrow_dataset(filesystem=arrow_filesystem(uri, opts)).to_table()
