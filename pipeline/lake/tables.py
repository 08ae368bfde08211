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
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipeline.lake.arrowfs import arrow_filesystem
from pipeline.lake.store import ObjectStore, StoreUnavailable

log = logging.getLogger(__name__)

ROOT = "tables"
# kind -> Delta partition columns.  None: every table is unpartitioned.  A batch is one
# file whatever the publication days it spans (a backfill of years too), and compaction
# merges the batch files into large ones.  Readers skip files by the per-file statistics
# Delta keeps (``batch_id``, ``published_at``, ``ingest_month`` ...).  Measured: partitioning
# the articles by ``ingest_month`` cost 30 ms per 10,000-row commit (of about 60) and
# bought nothing a statistics skip does not.
PARTITIONS: dict[str, list[str]] = {}
# Long text and nested columns: no Parquet statistics (min/max of a body is useless for
# skipping and costs a pass over the bytes on every write).
NO_STATS = ("body_text", "summary", "title", "anchors", "authors", "tags", "attribution_text", "url",
            "canonical_url", "image_url", "evidence", "detail", "original_url", "revision_diff")
KINDS = ("articles", "rejects", "fetch_attempts", "dedup-batch-edges", "dedup-assignments",
         "dedup-edges", "dedup-aliases", "related-lists")
# Generations: each write replaces the whole table (the current version IS the generation).
WHOLE_TABLE = ("dedup-assignments", "dedup-edges", "dedup-aliases", "related-lists")
BATCH_META = "batch_meta"
# Table properties given when a table is created.  A commit and a refresh replay the log
# since the last checkpoint, parsing each file's statistics for the statistics columns:
# a checkpoint every 10 commits (not 100) and statistics of ``batch_id`` only (what our
# commits record, and what rerun detection and batch reads skip by; not the first 32
# columns, bodies included) keep both a few ms (docs/lake.md, throughput).
CONFIG = {"delta.checkpointInterval": "10", "delta.dataSkippingStatsColumns": "batch_id"}


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
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # a real OS error (a full disk is ENOSPC: exit 4, not "store unreachable")
        where = getattr(store, "endpoint", None) or store.uri
        raise TableError(f"object store {where}: lake table {what} failed: {first}") from None


def exists(store: ObjectStore, kind: str) -> bool:
    return store.exists(f"{table_key(kind)}/_delta_log/00000000000000000000.json") or \
        any(True for _ in store.list(f"{table_key(kind)}/_delta_log/"))


_FILES = ThreadPoolExecutor(1, thread_name_prefix="lake-file")  # see ``write``
_OPEN: dict[tuple[int, str], object] = {}  # (pid, uri) -> DeltaTable, brought up to date on use


def open_table(store: ObjectStore, kind: str, version: int | None = None):
    """The ``DeltaTable`` (latest, or at ``version``: time travel); None when never written.

    The latest one is kept per process and brought up to date incrementally (only new log
    entries are read): re-reading a whole log per commit cost more than the commit itself
    on S3.  Keyed by pid as well, so a forked child never shares the parent's object."""
    import os

    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    uri = table_uri(store, kind)
    key = (os.getpid(), uri)
    if version is None and key in _OPEN:
        dt = _OPEN[key]
        try:
            _call(f"{kind} refresh", store, dt.update_incremental)
            return dt
        except (TableNotFoundError, OSError, ValueError):
            _OPEN.pop(key, None)
    if not exists(store, kind):
        return None
    try:
        dt = _call(f"{kind} open", store, DeltaTable, uri, storage_options=storage_options(store), version=version)
    except TableNotFoundError:
        return None
    if version is None:
        _OPEN[key] = dt
    return dt


def version(store: ObjectStore, kind: str) -> int | None:
    dt = open_table(store, kind)
    return None if dt is None else dt.version()


def _with_batch_columns(kind: str, batch_id: str, table: pa.Table, meta: dict | None) -> pa.Table:
    def same(value: str) -> pa.Array:
        return pa.repeat(pa.scalar(value, pa.string()), table.num_rows)

    if "batch_id" in table.column_names:
        table = table.set_column(table.schema.get_field_index("batch_id"), "batch_id", same(batch_id))
    else:
        table = table.append_column("batch_id", same(batch_id))
    table = table.append_column(BATCH_META, same(json.dumps(meta or {}, sort_keys=True)))
    if kind == "articles":
        table = table.append_column("ingest_month", same(ingest_month(batch_id)))
    return table.replace_schema_metadata(None)


def ingest_month(batch_id: str) -> str:
    """``YYYY-MM`` of a time-prefixed batch id (``20250801T120000Z-...``); ``other`` if none."""
    head = batch_id[:6]
    return f"{head[:4]}-{head[4:6]}" if head.isdigit() else "other"


def write(store: ObjectStore, kind: str, batch_id: str, table: pa.Table, meta: dict | None = None,
          before_replace=None) -> bool:
    """Commit ``table`` as batch ``batch_id`` of ``kind`` (one Delta commit); True when it
    replaced rows a file may have held for that batch (a rerun).

    Replaces that batch's rows (or, for generations, the whole table), so a rerun is
    idempotent.  New columns are added to the table schema without rewriting data
    (``schema_mode="merge"``).
    """
    from deltalake import ColumnProperties, CommitProperties, WriterProperties, write_deltalake

    from pipeline.failpoints import failpoint

    data = _with_batch_columns(kind, batch_id, table, meta)
    whole = kind in WHOLE_TABLE
    # A new batch (the common case) becomes one file plus an append commit.  The file is
    # written in a thread while the table state is brought up to date (pyarrow and
    # delta-rs both release the GIL); if the batch turns out to need a replace, the file is
    # dropped before anything references it.
    file = None if whole else _FILES.submit(_write_file, store, kind, data)
    dt = open_table(store, kind)
    present, grows = (False, False) if whole else _state(dt, batch_id, data)
    if file is not None:
        path, size = file.result()
        if dt is None:
            if _commit_file(store, kind, None, path, size, data, batch_id):
                return False  # a new table, created with its first file
            dt = open_table(store, kind)  # another writer created the table meanwhile
            present, grows = _state(dt, batch_id, data)
        if not (present or grows):
            _commit_file(store, kind, dt, path, size, data, batch_id)
            return False
        store.delete(f"{table_key(kind)}/{path}")
    if present and before_replace is not None:
        before_replace()  # e.g. drop a quarantined file the overwrite would have to read
        dt = open_table(store, kind)
    failpoint("after_data_files")  # delta-rs writes the files and commits in one call
    failpoint("before_commit")
    _call(f"{kind} write", store, write_deltalake, dt if dt is not None else table_uri(store, kind), data,
          mode="overwrite" if (whole or present) else "append",
          predicate=f"batch_id = '{_quote(batch_id)}'" if present else None,
          partition_by=PARTITIONS.get(kind), configuration=CONFIG if dt is None else None, schema_mode="overwrite" if whole else ("merge" if grows else None),
          storage_options=storage_options(store), writer_properties=WriterProperties(
              compression="SNAPPY", column_properties={c: ColumnProperties(statistics_enabled="NONE") for c in NO_STATS
                                 if c in data.column_names}),
          commit_properties=CommitProperties(custom_metadata={"newsflow.batch_id": batch_id}))
    return present


def _write_file(store: ObjectStore, kind: str, data: pa.Table) -> tuple[str, int]:
    """A new batch's Parquet file, written by pyarrow through the store (atomic put), not yet
    referenced by the log; its path and size.  delta-rs' own writer took about twice as
    long as ``pq.write_table`` for the same rows (see docs/lake.md, throughput); the file
    and its log entry are the same as it would write."""
    import uuid

    import pyarrow.parquet as pq

    path = f"part-00000-{uuid.uuid4()}-c000.snappy.parquet"
    # long text: no statistics and no dictionary attempt (pyarrow tries one per page, then
    # falls back: pure cost for article bodies)
    plain = [c for c in data.column_names if c not in NO_STATS]
    opts = {"compression": "snappy", "write_statistics": plain, "use_dictionary": plain}
    size = _write_local(store, kind, path, data, opts)
    if size is None:  # an object store: one PUT of the finished file
        sink = pa.BufferOutputStream()  # native buffer: a Python BytesIO cost a third more
        pq.write_table(data, sink, **opts)
        body = sink.getvalue().to_pybytes()
        store.put(f"{table_key(kind)}/{path}", body)
        size = len(body)
    return path, size


def _commit_file(store: ObjectStore, kind: str, dt, path: str, size: int, data: pa.Table, batch_id: str) -> bool:
    """One Delta commit adding the file (``dt`` None: the commit that creates the table);
    False only when another writer created the table first (the caller appends instead).
    A crash before it leaves an unreferenced file: invisible to every reader, removed by
    vacuum."""
    import time

    from deltalake import CommitProperties, Schema
    from deltalake.transaction import AddAction, create_table_with_add_actions

    from pipeline.failpoints import failpoint

    failpoint("after_data_files")
    stats = json.dumps({"numRecords": data.num_rows, "minValues": {"batch_id": batch_id},
                        "maxValues": {"batch_id": batch_id}, "nullCount": {"batch_id": 0}})
    add = AddAction(path, size, {}, int(time.time() * 1000), True, stats)
    props = CommitProperties(custom_metadata={"newsflow.batch_id": batch_id})
    failpoint("before_commit")
    if dt is not None:
        _call(f"{kind} commit", store, dt.create_write_transaction, [add], mode="append", schema=dt.schema(),
              commit_properties=props)
        return True
    try:  # delta-rs' own writer would write the same rows a second time, at half pyarrow's speed
        _call(f"{kind} create", store, create_table_with_add_actions, table_uri(store, kind),
              Schema.from_arrow(data.schema), [add], mode="error", configuration=CONFIG,
              storage_options=storage_options(store), commit_properties=props)
    except TableError:
        if exists(store, kind):
            return False
        raise
    return True


def _write_local(store: ObjectStore, kind: str, path: str, data: pa.Table, opts: dict) -> int | None:
    """On a local folder, pyarrow writes the file in place under a temp name, renamed when
    complete (atomic like ``LocalStore.put``, without a copy through memory); None elsewhere."""
    import os

    import pyarrow.parquet as pq

    from pipeline.lake.store import LocalStore

    if not isinstance(store, LocalStore):
        return None
    final = store.root / table_key(kind) / path
    tmp = final.with_name(f".tmp-{final.name}")
    final.parent.mkdir(parents=True, exist_ok=True)  # a new table's first file comes before its log
    try:
        pq.write_table(data, str(tmp), **opts)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final.stat().st_size


def _state(dt, batch_id: str, data: pa.Table) -> tuple[bool, bool]:
    """Whether some file may hold the batch's rows already (then the write replaces them),
    and whether ``data`` adds columns (then delta-rs merges the schema).  A new batch is
    neither: a plain append, which costs no scan.  Batch ids are unique per writer (run and
    shard), so no two live writers append the same id."""
    if dt is None:
        return False, False
    return _may_hold(dt, batch_id), bool(set(data.column_names) - {f.name for f in dt.schema().fields})


def _may_hold(dt, batch_id: str) -> bool:
    """Whether a current file's batch_id range covers ``batch_id`` (no stats: assume yes)."""
    t = pa.table(dt.get_add_actions(flatten=True))
    if not t.num_rows:
        return False
    if "min.batch_id" not in t.column_names:
        return True
    lo, hi = t["min.batch_id"].to_pylist(), t["max.batch_id"].to_pylist()
    return any(a is None or b is None or a <= batch_id <= b for a, b in zip(lo, hi, strict=True))


def _quote(value: str) -> str:
    return value.replace("'", "''")


def remove_files(store: ObjectStore, kind: str, paths: Iterable[str]) -> None:
    """Remove data files from the table in one commit, without reading them (a quarantined
    file: delta-rs' own delete and overwrite read a file before dropping it)."""
    import time

    from deltalake.transaction import RemoveAction

    dt = open_table(store, kind)
    current = {f["path"]: f for f in files(store, kind)}
    now = int(time.time() * 1000)
    actions = [RemoveAction(p, True, now, current[p]["size_bytes"], {}) for p in sorted(set(paths)) if p in current]
    if dt is None or not actions:
        return
    _call(f"{kind} remove", store, dt.create_write_transaction, actions, mode="append", schema=dt.schema())


def dataset(store: ObjectStore, kind: str, *, version: int | None = None,
            skip_files: Iterable[str] = ()) -> ds.Dataset | None:
    """The table's snapshot as a pyarrow dataset (``skip_files``: relative paths left out)."""
    dt = open_table(store, kind, version)
    if dt is None:
        return None
    d = _call(f"{kind} read", store, dt.to_pyarrow_dataset,
              filesystem=arrow_filesystem(table_uri(store, kind), storage_options(store)))
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
