"""Parquet batches with commit manifests: readers never see half a batch.

Layout (``kind`` is ``articles``, ``dedup`` ...)::

    <kind>/dt=YYYY-MM-DD/<batch_id>.parquet      data files, partitioned by publication date
    _manifests/<kind>/<batch_id>.json            written LAST; lists the files and row counts

A batch id is derived from its content by the caller, so re-running the same input writes
the same keys: the rerun overwrites rather than duplicates.  A batch with no manifest is
invisible (a crashed writer leaves only unreferenced files behind).

Each file entry records the file's rows, bytes and SHA-256; readers verify them
(``pipeline.lake.integrity``).  A batch whose file fails is quarantined (marked in its
manifest) and hidden from readers until it is restored or rewritten.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.failpoints import failpoint
from pipeline.lake.integrity import CorruptFile, file_entry, parse, quarantine
from pipeline.lake.schema import SCHEMA_VERSION, upgrade
from pipeline.lake.store import ObjectStore

MANIFESTS = "_manifests"


@dataclass(frozen=True)
class BatchManifest:
    kind: str
    batch_id: str
    files: list[dict]  # [{"key", "rows", "bytes", "sha256"}] (+ "batch_filter" once compacted)
    rows: int
    schema_version: int
    meta: dict
    quarantine: list[dict] = field(default_factory=list)  # [{"key", "problem"}]: hidden from readers

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
            data = _to_parquet(part)
            store.put(key, data)
            files.append(file_entry(key, data, part.num_rows))
    else:
        key = f"{kind}/{batch_id}.parquet"
        data = _to_parquet(table)
        store.put(key, data)
        files.append(file_entry(key, data, table.num_rows))
    failpoint("after_data_files")
    manifest = BatchManifest(kind, batch_id, files, table.num_rows, SCHEMA_VERSION, meta or {})
    previous = read_manifest(store, kind, batch_id, include_quarantined=True)
    failpoint("before_commit")
    store.put(manifest.key, _manifest_bytes(manifest))  # the commit (also lifts a quarantine)
    if previous:  # a rerun with different partitions: drop files the new manifest no longer lists
        # (compacted files are shared with other batches: never deleted here)
        stale = {f["key"] for f in previous.files if not f.get("batch_filter")} - {f["key"] for f in files}
        for key in stale:
            store.delete(key)
    return manifest


def _manifest_bytes(manifest: BatchManifest) -> bytes:
    return json.dumps(manifest.__dict__, sort_keys=True, indent=1).encode()


def read_manifest(store: ObjectStore, kind: str, batch_id: str, *,
                  include_quarantined: bool = False) -> BatchManifest | None:
    """The batch's manifest; None when not committed (or quarantined, unless asked for)."""
    key = f"{MANIFESTS}/{kind}/{batch_id}.json"
    if not store.exists(key):
        return None
    m = BatchManifest(**json.loads(store.get(key)))
    return m if include_quarantined or not m.quarantine else None


def rewrite_manifest(store: ObjectStore, manifest: BatchManifest, **changes) -> BatchManifest:
    """Replace a committed manifest with ``changes`` applied (one atomic put)."""
    new = BatchManifest(**{**manifest.__dict__, **changes})
    store.put(new.key, _manifest_bytes(new))
    return new


def list_batches(store: ObjectStore, kind: str, *, include_quarantined: bool = False) -> list[BatchManifest]:
    """Committed batches of ``kind``, oldest key first (ids sort by their time prefix).

    Quarantined batches are left out unless asked for: readers skip them.
    """
    out = []
    for key in store.list(f"{MANIFESTS}/{kind}/"):
        if key.endswith(".json"):
            m = BatchManifest(**json.loads(store.get(key)))
            if include_quarantined or not m.quarantine:
                out.append(m)
    return sorted(out, key=lambda m: m.batch_id)


def all_manifests(store: ObjectStore, kinds: list[str] | None = None) -> list[BatchManifest]:
    """Every committed manifest of every kind (or of ``kinds``), quarantined ones included."""
    found = sorted({key.split("/")[1] for key in store.list(f"{MANIFESTS}/") if key.count("/") >= 2})
    return [m for kind in found if kinds is None or kind in kinds
            for m in list_batches(store, kind, include_quarantined=True)]


def read_batch(store: ObjectStore, manifest: BatchManifest, *, _retry: bool = True) -> pa.Table:
    """The batch's rows at the current schema version.

    A file can vanish between reading a manifest and reading the file when a compaction
    switched the manifest meanwhile: the manifest is then read again, once.  A file that
    still fails to read (truncated, overwritten, missing, not Parquet) quarantines the
    batch and raises :class:`~pipeline.lake.integrity.CorruptFile` naming file and batch.
    """
    try:
        tables = [_read_file(store, f, manifest.kind) for f in manifest.files]
    except _Unreadable as bad:
        fresh = read_manifest(store, manifest.kind, manifest.batch_id) if _retry else None
        if fresh is not None and fresh.files != manifest.files:
            return read_batch(store, fresh, _retry=False)
        quarantine(store, manifest, bad.key, bad.problem)
        raise CorruptFile(manifest.kind, manifest.batch_id, bad.key, bad.problem) from None
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


class _Unreadable(Exception):
    def __init__(self, key: str, problem: str):
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


def _read_file(store: ObjectStore, entry: dict, kind: str) -> pa.Table:
    try:
        table = parse(entry, store.get(entry["key"]))
    except FileNotFoundError:
        raise _Unreadable(entry["key"], "missing") from None
    except ValueError as exc:
        raise _Unreadable(entry["key"], str(exc)) from None
    table = upgrade(table, kind)
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
    data = _to_parquet(table)
    store.put(key, data)
    merged = file_entry(key, data, table.num_rows)
    for m in manifests:
        files = [
            {**merged, "rows": f["rows"], "batch_filter": m.batch_id}
            if f["key"].rsplit("/", 1)[0] == folder else f
            for f in m.files
        ]
        rewrite_manifest(store, m, files=files)
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
