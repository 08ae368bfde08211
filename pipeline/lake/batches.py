"""Parquet batches with commit manifests: readers never see half a batch.

Layout (``kind`` is ``articles``, ``dedup`` ...)::

    <kind>/dt=YYYY-MM-DD/<batch_id>.parquet      data files, partitioned by publication date
    _manifests/<kind>/<batch_id>.json            written LAST; lists the files and row counts

A batch id is derived from its content by the caller, so re-running the same input writes
the same keys: the rerun overwrites rather than duplicates.  A batch with no manifest is
invisible (a crashed writer leaves only unreferenced files behind).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.lake.schema import SCHEMA_VERSION, upgrade
from pipeline.lake.store import ObjectStore

MANIFESTS = "_manifests"


@dataclass(frozen=True)
class BatchManifest:
    kind: str
    batch_id: str
    files: list[dict]  # [{"key": ..., "rows": n}]
    rows: int
    schema_version: int
    meta: dict

    @property
    def key(self) -> str:
        return f"{MANIFESTS}/{self.kind}/{self.batch_id}.json"


def _to_parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def write_batch(
    store: ObjectStore,
    kind: str,
    batch_id: str,
    table: pa.Table,
    *,
    date_column: str | None = None,
    meta: dict | None = None,
) -> BatchManifest:
    """Write ``table`` as one batch, partitioned by the date of ``date_column`` when given."""
    files: list[dict] = []
    if date_column and table.num_rows:
        days = pc.strftime(table[date_column], format="%Y-%m-%d")
        for day in sorted(set(days.to_pylist())):
            part = table.filter(pc.equal(days, day))
            key = f"{kind}/dt={day}/{batch_id}.parquet"
            store.put(key, _to_parquet(part))
            files.append({"key": key, "rows": part.num_rows})
    else:
        key = f"{kind}/{batch_id}.parquet"
        store.put(key, _to_parquet(table))
        files.append({"key": key, "rows": table.num_rows})
    manifest = BatchManifest(kind, batch_id, files, table.num_rows, SCHEMA_VERSION, meta or {})
    previous = read_manifest(store, kind, batch_id)
    store.put(manifest.key, _manifest_bytes(manifest))
    if previous:  # a rerun with different partitions: drop files the new manifest no longer lists
        # (compacted files are shared with other batches: never deleted here)
        stale = {f["key"] for f in previous.files if not f.get("batch_filter")} - {f["key"] for f in files}
        for key in stale:
            store.delete(key)
    return manifest


def _manifest_bytes(manifest: BatchManifest) -> bytes:
    return json.dumps(manifest.__dict__, sort_keys=True, indent=1).encode()


def read_manifest(store: ObjectStore, kind: str, batch_id: str) -> BatchManifest | None:
    key = f"{MANIFESTS}/{kind}/{batch_id}.json"
    if not store.exists(key):
        return None
    return BatchManifest(**json.loads(store.get(key)))


def list_batches(store: ObjectStore, kind: str) -> list[BatchManifest]:
    """Committed batches of ``kind``, oldest key first (ids sort by their time prefix)."""
    out = []
    for key in store.list(f"{MANIFESTS}/{kind}/"):
        if key.endswith(".json"):
            out.append(BatchManifest(**json.loads(store.get(key))))
    return sorted(out, key=lambda m: m.batch_id)


def read_batch(store: ObjectStore, manifest: BatchManifest, *, _retry: bool = True) -> pa.Table:
    """The batch's rows at the current schema version.

    A file can vanish between reading a manifest and reading the file when a compaction
    switched the manifest meanwhile: the manifest is then read again, once.
    """
    try:
        tables = [_read_file(store, f, manifest.kind) for f in manifest.files]
    except Exception:
        fresh = read_manifest(store, manifest.kind, manifest.batch_id) if _retry else None
        if fresh is None or fresh.files == manifest.files:
            raise
        return read_batch(store, fresh, _retry=False)
    if not tables:
        raise ValueError(f"batch {manifest.batch_id} lists no files")
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


# ------------------------------------------------------------------------------ compaction
#
# A compacted file holds the rows of several batches of one partition; each manifest keeps
# its batch identity and points at the shared file with ``batch_filter`` (the rows carry a
# ``batch_id`` column), so the warehouse ledger and dedup generations do not notice.  Order:
# merged file (invisible) -> manifests rewritten one by one (each switch is atomic and the
# batch reads the same rows before and after) -> replaced files deleted.  A crash at any
# point leaves every committed batch readable; a rerun finishes the job.


@dataclass(frozen=True)
class CompactionResult:
    partition: str
    files_before: int
    rows: int
    key: str | None  # the merged file, None when there was nothing to merge


def _read_file(store: ObjectStore, entry: dict, kind: str) -> pa.Table:
    table = upgrade(pq.read_table(io.BytesIO(store.get(entry["key"]))), kind)
    if entry.get("batch_filter"):
        table = table.filter(pc.equal(table["batch_id"], entry["batch_filter"]))
    return table


def partitions(store: ObjectStore, kind: str) -> dict[str, list[BatchManifest]]:
    """Partition folder (``articles/dt=2025-08-01``) -> committed manifests with files there."""
    out: dict[str, list[BatchManifest]] = {}
    for m in list_batches(store, kind):
        for f in m.files:
            folder = f["key"].rsplit("/", 1)[0]
            if folder != kind and m not in out.setdefault(folder, []):
                out[folder].append(m)
    return out


def compact_partition(store: ObjectStore, kind: str, folder: str, manifests: list[BatchManifest]) -> CompactionResult:
    """Merge every file of one partition into one (see the section comment)."""
    # Re-read: compacting an earlier partition may have rewritten these manifests.
    manifests = [fresh for m in manifests if (fresh := read_manifest(store, kind, m.batch_id))]
    entries = [(m, f) for m in manifests for f in m.files if f["key"].rsplit("/", 1)[0] == folder]
    old_keys = sorted({f["key"] for _, f in entries})
    if len(old_keys) < 2:
        return CompactionResult(folder, len(old_keys), sum(f["rows"] for _, f in entries), None)
    tables = [_read_file(store, f, kind) for _, f in sorted(entries, key=lambda e: e[0].batch_id)]
    table = pa.concat_tables(tables).sort_by([("batch_id", "ascending"), ("article_id", "ascending")])
    digest = hashlib.sha256("\n".join(f"{m.batch_id}:{f['key']}" for m, f in entries).encode()).hexdigest()[:16]
    key = f"{folder}/compact-{digest}.parquet"
    store.put(key, _to_parquet(table))
    for m in manifests:
        files = [
            {"key": key, "rows": f["rows"], "batch_filter": m.batch_id}
            if f["key"].rsplit("/", 1)[0] == folder else f
            for f in m.files
        ]
        new = BatchManifest(m.kind, m.batch_id, files, m.rows, m.schema_version, m.meta)
        store.put(new.key, _manifest_bytes(new))
    for old in old_keys:
        store.delete(old)
    return CompactionResult(folder, len(old_keys), table.num_rows, key)


def compact(store: ObjectStore, kind: str = "articles", only: str | None = None) -> list[CompactionResult]:
    """Compact every partition of ``kind`` (or only the folder/``dt=...`` named)."""
    if kind != "articles":
        raise ValueError("only 'articles' rows carry batch_id, so only they can be compacted")
    out = []
    for folder, manifests in sorted(partitions(store, kind).items()):
        if only and folder not in (only, f"{kind}/{only}"):
            continue
        out.append(compact_partition(store, kind, folder, manifests))
    return out
