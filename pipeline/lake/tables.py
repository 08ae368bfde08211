"""Every lake zone but the raw objects is a Delta Lake table (``deltalake``, delta-rs).

Why Delta: measured against Iceberg (pyiceberg + SQL catalog) in ``docs/lake.md``; it
needs no catalog service, DuckDB, Polars, Spark and Trino read it from its path, and
atomic commits, snapshots (versions), time travel, schema evolution, compaction and
vacuum come from the format instead of our own manifests.

Layout: ``<lake>/tables/<name>/`` (``_delta_log/`` + Parquet files).  Every row carries the
``batch_id`` of the write that produced it; a write of a batch is **one Delta commit**
that replaces that batch's rows (``predicate = "batch_id = '<id>'"``), so rerunning a batch
after a crash or a retry never duplicates rows, and a reader sees all of a batch or none.
``batch_meta`` (JSON) keeps what the writer recorded about the batch (counts, the
settings fingerprint), in the data itself so it survives log cleanup and compaction.

Only this module talks to ``deltalake``; callers name a *kind* (``articles``,
``dedup-edges`` ...) and get Arrow tables back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipeline.lake.store import ObjectStore, StoreUnavailable

log = logging.getLogger(__name__)

ROOT = "tables"
# kind -> Delta partition columns.  Articles are partitioned by the month of the batch's
# ingest (``ingest_month``, from the time-prefixed batch id): one batch is one partition and
# one file, however many publication days it spans, and a backfill of years stays in the
# month it was ingested.  The other tables are small: unpartitioned.
PARTITIONS: dict[str, list[str]] = {"articles": ["ingest_month"]}
KINDS = ("articles", "rejects", "fetch_attempts", "dedup-batch-edges", "dedup-assignments",
         "dedup-edges", "dedup-aliases")
# Generations: each write replaces the whole table (the current version IS the generation).
WHOLE_TABLE = ("dedup-assignments", "dedup-edges", "dedup-aliases")
BATCH_META = "batch_meta"


class TableError(StoreUnavailable):
    """A Delta operation on the lake failed (unreachable store, refused commit)."""


def table_name(kind: str) -> str:
    return kind.replace("-", "_")


def table_key(kind: str) -> str:
    return f"{ROOT}/{table_name(kind)}"


def table_uri(store: ObjectStore, kind: str) -> str:
    """Where an outside engine finds the table: a local path or ``s3://bucket/prefix/tables/x``."""
    return store.url_for(table_key(kind))


def storage_options(store: ObjectStore) -> dict[str, str] | None:
    """delta-rs (object_store) options for the store; None for a local folder."""
    return getattr(store, "delta_options", None)


def _call(what: str, store: ObjectStore, fn, *args, **kwargs):
    """Run a deltalake call; an unreachable store becomes one :class:`TableError` line."""
    from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

    try:
        return fn(*args, **kwargs)
    except TableNotFoundError:
        raise
    except (DeltaError, CommitFailedError, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if isinstance(exc, OSError) and not any(w in first.lower() for w in ("connect", "timed out", "dns", "request")):
            raise
        raise TableError(f"lake table {what} on {getattr(store, 'endpoint', None) or store.uri}: {first}") from None


def exists(store: ObjectStore, kind: str) -> bool:
    return store.exists(f"{table_key(kind)}/_delta_log/00000000000000000000.json") or \
        any(True for _ in store.list(f"{table_key(kind)}/_delta_log/"))


def open_table(store: ObjectStore, kind: str, version: int | None = None):
    """The ``DeltaTable`` (latest, or at ``version``: time travel); None when never written."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    if not exists(store, kind):
        return None
    try:
        return _call(f"{kind} open", store, DeltaTable, table_uri(store, kind),
                     storage_options=storage_options(store), version=version)
    except TableNotFoundError:
        return None


def version(store: ObjectStore, kind: str) -> int | None:
    dt = open_table(store, kind)
    return None if dt is None else dt.version()


def _with_batch_columns(kind: str, batch_id: str, table: pa.Table, meta: dict | None) -> pa.Table:
    n = table.num_rows
    if "batch_id" in table.column_names:
        table = table.set_column(table.schema.get_field_index("batch_id"), "batch_id",
                                 pa.array([batch_id] * n, pa.string()))
    else:
        table = table.append_column("batch_id", pa.array([batch_id] * n, pa.string()))
    table = table.append_column(BATCH_META, pa.array([json.dumps(meta or {}, sort_keys=True)] * n, pa.string()))
    if kind == "articles":
        table = table.append_column("ingest_month", pa.array([ingest_month(batch_id)] * n, pa.string()))
    return table.replace_schema_metadata(None)


def ingest_month(batch_id: str) -> str:
    """``YYYY-MM`` of a time-prefixed batch id (``20250801T120000Z-...``); ``other`` if none."""
    head = batch_id[:6]
    return f"{head[:4]}-{head[4:6]}" if head.isdigit() else "other"


def write(store: ObjectStore, kind: str, batch_id: str, table: pa.Table, meta: dict | None = None) -> int:
    """Commit ``table`` as batch ``batch_id`` of ``kind`` (one Delta commit); the new version.

    Replaces that batch's rows (or, for generations, the whole table), so a rerun is
    idempotent.  New columns are added to the table schema without rewriting data
    (``schema_mode="merge"``).
    """
    from deltalake import CommitProperties, WriterProperties, write_deltalake

    from pipeline.failpoints import failpoint

    data = _with_batch_columns(kind, batch_id, table, meta)
    failpoint("after_data_files")
    fresh = not exists(store, kind)
    whole = kind in WHOLE_TABLE
    predicate = None if fresh or whole else f"batch_id = '{_quote(batch_id)}'"
    failpoint("before_commit")
    _call(f"{kind} write", store, write_deltalake, table_uri(store, kind), data,
          mode="overwrite" if (whole or predicate) else "append", predicate=predicate,
          partition_by=PARTITIONS.get(kind), schema_mode="merge" if not whole else "overwrite",
          storage_options=storage_options(store), writer_properties=WriterProperties(compression="ZSTD"),
          commit_properties=CommitProperties(custom_metadata={"newsflow.batch_id": batch_id}))
    return version(store, kind) or 0


def _quote(value: str) -> str:
    return value.replace("'", "''")


def delete_batches(store: ObjectStore, kind: str, batch_ids: Iterable[str]) -> None:
    """Remove the rows of ``batch_ids`` (one commit; by file statistics, no file is read
    when a file holds only those batches, so it works on a quarantined file too)."""
    ids = sorted(set(batch_ids))
    dt = open_table(store, kind)
    if dt is None or not ids:
        return
    pred = " OR ".join(f"batch_id = '{_quote(b)}'" for b in ids)
    _call(f"{kind} delete", store, dt.delete, pred)


def dataset(store: ObjectStore, kind: str, *, version: int | None = None,
            skip_files: Iterable[str] = ()) -> ds.Dataset | None:
    """The table's snapshot as a pyarrow dataset (``skip_files``: relative paths left out)."""
    dt = open_table(store, kind, version)
    if dt is None:
        return None
    d = _call(f"{kind} read", store, dt.to_pyarrow_dataset)
    skip = set(skip_files)
    if skip:
        frags = [f for f in d.get_fragments() if relative_path(store, kind, f.path) not in skip]
        d = ds.FileSystemDataset(frags, d.schema, d.format, d.filesystem)
    return d


def relative_path(store: ObjectStore, kind: str, path: str) -> str:
    """A data file's path inside its table folder, however the filesystem spells it."""
    base = table_uri(store, kind).rstrip("/") + "/"
    for prefix in (base, base.split("://", 1)[-1]):
        if path.startswith(prefix):
            return path[len(prefix):]
    return path


def files(store: ObjectStore, kind: str) -> list[dict]:
    """The current version's data files: path (relative), size_bytes, num_records, min/max batch_id."""
    dt = open_table(store, kind)
    if dt is None:
        return []
    t = pa.table(dt.get_add_actions(flatten=True))
    cols = t.column_names
    out = []
    for row in t.to_pylist():
        out.append({"path": row["path"], "size_bytes": row["size_bytes"], "num_records": row.get("num_records"),
                    "min": row.get("min.batch_id") if "min.batch_id" in cols else None,
                    "max": row.get("max.batch_id") if "max.batch_id" in cols else None})
    return out


def read(store: ObjectStore, kind: str, batch_ids: Iterable[str] | None = None, *,
         columns: list[str] | None = None, version: int | None = None,
         skip_files: Iterable[str] = (), skip_batches: Iterable[str] = ()) -> pa.Table | None:
    """Rows of ``kind`` (of ``batch_ids`` when given) from one snapshot; None without a table."""
    d = dataset(store, kind, version=version, skip_files=skip_files)
    if d is None:
        return None
    flt = None
    if batch_ids is not None:
        flt = pc.field("batch_id").isin(pa.array(sorted(set(batch_ids)), pa.string()))
    skip = sorted(set(skip_batches))
    if skip:
        out = ~pc.field("batch_id").isin(pa.array(skip, pa.string()))
        flt = out if flt is None else flt & out
    cols = None if columns is None else [c for c in columns if c in d.schema.names]
    return d.to_table(columns=cols, filter=flt, use_threads=False)


def batch_rows(store: ObjectStore, kind: str, **kw) -> dict[str, tuple[int, dict]]:
    """batch id -> (rows, meta) of every batch in the current snapshot."""
    t = read(store, kind, columns=["batch_id", BATCH_META], **kw)
    if t is None or not t.num_rows:
        return {}
    g = t.group_by("batch_id").aggregate([("batch_id", "count"), (BATCH_META, "max")])
    return {b: (n, json.loads(m or "{}")) for b, n, m in zip(
        g["batch_id"].to_pylist(), g["batch_id_count"].to_pylist(), g[f"{BATCH_META}_max"].to_pylist(), strict=True)}


def commit_info(store: ObjectStore, kind: str, version: int) -> dict | None:
    """The ``commitInfo`` of one version, read from its log entry (None once the log was
    cleaned up).  Read through the store: cheaper than replaying history, and delta-rs'
    history listing hangs against moto's S3 server."""
    key = f"{table_key(kind)}/_delta_log/{version:020d}.json"
    try:
        text = store.get(key).decode()
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        action = json.loads(line) if line.strip() else {}
        if "commitInfo" in action:
            return action["commitInfo"]
    return {}


def latest_batch_id(store: ObjectStore, kind: str, version: int | None = None) -> str | None:
    """The batch id the (latest or given) version's commit recorded (whole-table kinds)."""
    v = version if version is not None else globals()["version"](store, kind)
    info = None if v is None else commit_info(store, kind, v)
    return (info or {}).get("newsflow.batch_id")


def versions_with_batch(store: ObjectStore, kind: str, batch_id: str) -> int | None:
    """The newest version whose commit wrote ``batch_id`` (time travel to a generation)."""
    latest = version(store, kind)
    for v in range(latest if latest is not None else -1, -1, -1):
        info = commit_info(store, kind, v)
        if info is None:
            return None
        if info.get("newsflow.batch_id") == batch_id:
            return v
    return None
