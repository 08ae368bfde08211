"""Parquet batches with commit manifests: readers never see half a batch.

Layout (``kind`` is ``articles``, ``dedup`` ...)::

    <kind>/dt=YYYY-MM-DD/<batch_id>.parquet      data files, partitioned by publication date
    _manifests/<kind>/<batch_id>.json            written LAST; lists the files and row counts

A batch id is derived from its content by the caller, so re-running the same input writes
the same keys: the rerun overwrites rather than duplicates.  A batch with no manifest is
invisible (a crashed writer leaves only unreferenced files behind).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.lake.schema import SCHEMA_VERSION, check_version
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
    store.put(manifest.key, json.dumps(manifest.__dict__, sort_keys=True, indent=1).encode())
    if previous:  # a rerun with different partitions: drop files the new manifest no longer lists
        stale = {f["key"] for f in previous.files} - {f["key"] for f in files}
        for key in stale:
            store.delete(key)
    return manifest


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


def read_batch(store: ObjectStore, manifest: BatchManifest) -> pa.Table:
    tables = []
    for f in manifest.files:
        table = pq.read_table(io.BytesIO(store.get(f["key"])))
        check_version(table.schema)
        tables.append(table)
    if not tables:
        raise ValueError(f"batch {manifest.batch_id} lists no files")
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]
