"""Batches over the lake's Delta tables: the unit every stage writes, tracks and loads.

A batch is the rows of one table sharing a ``batch_id``, written in **one Delta commit**
(``pipeline.lake.tables.write``): readers never see half a batch, a rerun replaces the
batch instead of duplicating it, and compaction rewrites files without touching batch
identity, so the consumers' progress (the warehouse load ledger, dedup's and related's
sets of batch ids) is never confused.  Ids are derived from content or time by the
callers, oldest first when sorted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa

from pipeline.lake import integrity, tables
from pipeline.lake.store import ObjectStore

# An empty batch has no row to carry its id: it is recorded as ``_empty/<table>/<id>.json``
# (its meta), so that e.g. a batch with no dedup edges still counts as matched.
EMPTY = "_empty"
# Kinds whose own rows carry ``batch_id`` (part of what the writer gave); for the others it
# is the table's bookkeeping column and readers get the writer's columns back.
OWN_BATCH_ID = {"articles", "fetch_attempts"}
_BOOKKEEPING = {tables.BATCH_META, "ingest_month"}


@dataclass(frozen=True)
class Batch:
    kind: str
    batch_id: str
    rows: int
    meta: dict


def write_batch(store: ObjectStore, kind: str, batch_id: str, table: pa.Table, *,
                meta: dict | None = None) -> Batch:
    """Commit ``table`` as batch ``batch_id`` of ``kind`` (replacing any earlier copy).

    A rewrite replaces the batch's files by their statistics without reading them, so it
    also drops a quarantined file of the batch and lifts the quarantine.  An empty batch
    leaves a marker (a stale marker of a batch that has rows later is ignored by readers).
    """
    def drop_quarantined() -> None:  # the bad file leaves the table unread
        recs = [r for r in integrity.records(store, kind) if batch_id in r["batches"]]
        if recs:
            tables.remove_files(store, kind, [r["path"] for r in recs])

    replaced = tables.write(store, kind, batch_id, table, meta, before_replace=drop_quarantined)
    if replaced:
        integrity.release(store, kind, {batch_id})
    if table.num_rows == 0 and kind not in tables.WHOLE_TABLE:
        store.put(_empty_key(kind, batch_id), json.dumps(meta or {}, sort_keys=True).encode())
    return Batch(kind, batch_id, table.num_rows, dict(meta or {}))


def _empty_key(kind: str, batch_id: str) -> str:
    return f"{EMPTY}/{tables.table_name(kind)}/{batch_id}.json"


def list_batches(store: ObjectStore, kind: str, *, version: int | None = None) -> list[Batch]:
    """Committed, readable batches of ``kind``, oldest id first (quarantined ones left out)."""
    t = integrity.guarded_read(store, kind, columns=["batch_id", tables.BATCH_META], version=version)
    out: dict[str, Batch] = {}
    if t is not None and t.num_rows:
        g = t.group_by("batch_id").aggregate([("batch_id", "count"), (tables.BATCH_META, "max")])
        rows = zip(g["batch_id"].to_pylist(), g["batch_id_count"].to_pylist(),
                   g[f"{tables.BATCH_META}_max"].to_pylist(), strict=True)
        out = {b: Batch(kind, b, n, json.loads(m or "{}")) for b, n, m in rows}
    if version is None and kind not in tables.WHOLE_TABLE:
        prefix = f"{EMPTY}/{tables.table_name(kind)}/"
        for key in store.list(prefix):
            bid = key[len(prefix):].removesuffix(".json")
            if bid not in out:
                out[bid] = Batch(kind, bid, 0, json.loads(store.get(key)))
    return sorted(out.values(), key=lambda x: x.batch_id)


def read_manifest(store: ObjectStore, kind: str, batch_id: str) -> Batch | None:
    """The batch's record; None when not committed (or quarantined)."""
    return next((b for b in list_batches(store, kind) if b.batch_id == batch_id), None)


def _clean(kind: str, table: pa.Table) -> pa.Table:
    drop = [c for c in table.column_names if c in _BOOKKEEPING or (c == "batch_id" and kind not in OWN_BATCH_ID)]
    return table.drop_columns(drop)


def read_batches(store: ObjectStore, kind: str, batch_ids: list[str] | None = None, *,
                 columns: list[str] | None = None, version: int | None = None) -> pa.Table | None:
    """Rows of ``batch_ids`` (all when None) from one snapshot, quarantined batches left out."""
    cols = None if columns is None else list(dict.fromkeys([*columns, "batch_id"]))
    t = integrity.guarded_read(store, kind, batch_ids=batch_ids, columns=cols, version=version)
    return None if t is None else _clean(kind, _in_batch_order(t))


def _in_batch_order(t: pa.Table) -> pa.Table:
    """Oldest batch first, each batch's rows in written order (a stable sort), whatever
    order the table's files come in."""
    return t.sort_by("batch_id") if t.num_rows > 1 else t


def read_batch(store: ObjectStore, batch: Batch) -> pa.Table:
    """One batch's rows; :class:`~pipeline.lake.integrity.CorruptFile` when its file is bad."""
    rec = next((r for r in integrity.records(store, batch.kind) if batch.batch_id in r["batches"]), None)
    if rec is not None:  # quarantined earlier (by another reader or process)
        raise integrity.CorruptFile(batch.kind, batch.batch_id, integrity.file_key(batch.kind, rec["path"]),
                                    rec["problem"])
    t = integrity.guarded_read(store, batch.kind, batch_ids=[batch.batch_id],
                               strict=lambda bad: batch.batch_id in bad)
    if t is None:
        raise ValueError(f"{batch.kind} batch {batch.batch_id}: no such table")
    return _clean(batch.kind, _in_batch_order(t))
