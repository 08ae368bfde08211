"""Whole sentence vectors that dedup encoded lazily, persisted beside its index.

The dedup index (``pipeline.lake.dedup_zone``) stores, per article, the vectors of its
*sketch* only; its ``sentvec`` column is null until a candidate pair needs every sentence
(``pipeline.dedup.sketch``).  The stage then encodes them once and writes them here, one
immutable object per matched batch: ``dedup-sentvec/<batch id>.parquet``, with rows
(``index_key``, ``article_id``, ``dim``, ``sentvec`` float16).  The loader reads them back
for any later batch or ``explain``, so no sentence is encoded twice.  Each object carries
the index fingerprint it was computed under; objects of another one are ignored (their
index rows were recomputed).  Takedowns rewrite these objects like the index's
(``pipeline.lake.purge``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.lake.schema import check_version, with_version
from pipeline.lake.store import ObjectStore

PREFIX = "dedup-sentvec"
SCHEMA = pa.schema([("index_key", pa.string()), ("article_id", pa.string()), ("dim", pa.int32()),
                    ("sentvec", pa.binary())])


def key_for(batch_id: str) -> str:
    return f"{PREFIX}/{batch_id}.parquet"


def write(store: ObjectStore, batch_id: str, docs: Sequence, fingerprint: str | None) -> int:
    """Persist the fresh whole vectors (``sentvec_fresh``) of ``docs`` that have a lake
    location; returns how many rows were written (nothing is written for none)."""
    rows = [d for d in docs if d.sentvec_fresh and d.location is not None and d.sentvec is not None]
    if not rows:
        return 0
    rows.sort(key=lambda d: (d.location[0], d.id))
    key = key_for(batch_id)
    if store.exists(key):  # a re-run of the same batch: keep what the earlier run stored
        old = read_object(store, key)
        seen = {(d.location[0], d.id) for d in rows}
        keep = [r for r in old.to_pylist() if (r["index_key"], r["article_id"]) not in seen]
    else:
        keep = []
    table = pa.Table.from_pylist(
        keep + [{"index_key": d.location[0], "article_id": d.id, "dim": int(d.sentvec.shape[1]),
                 "sentvec": np.asarray(d.sentvec, dtype=np.float16).tobytes()} for d in rows],
        schema=with_version(SCHEMA, PREFIX))
    put_object(store, key, table, fingerprint)
    for d in rows:
        d.sentvec_fresh = False
    return len(rows)


def put_object(store: ObjectStore, key: str, table: pa.Table, fingerprint: str | None) -> None:
    """Write one vector object, stamped with the index fingerprint it was computed under
    (shared with ``pipeline.lake.dedup_secvec``)."""
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"newsflow.meta": json.dumps({"fingerprint": fingerprint}).encode()})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    store.put(key, buf.getvalue())


def read_object(store: ObjectStore, key: str, columns: list[str] | None = None) -> pa.Table:
    f = pq.ParquetFile(io.BytesIO(store.get(key)))
    check_version(f.schema_arrow)
    return f.read(columns=columns)


def _fingerprint(store: ObjectStore, key: str) -> str | None:
    md = pq.read_metadata(io.BytesIO(store.get(key)))
    return json.loads((md.metadata or {}).get(b"newsflow.meta", b"{}")).get("fingerprint")


def locations(store: ObjectStore, prefix: str, fingerprint: str | None) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """(index key, article id) -> its rows, (object key, row), in the objects under
    ``prefix`` made under ``fingerprint`` (any, when None), in key order."""
    where: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for key in sorted(k for k in store.list(f"{prefix}/") if k.endswith(".parquet")):
        if fingerprint is not None and _fingerprint(store, key) != fingerprint:
            continue
        t = read_object(store, key, ["index_key", "article_id"])
        for r, (ik, aid) in enumerate(zip(t["index_key"].to_pylist(), t["article_id"].to_pylist(), strict=True)):
            where.setdefault((ik, aid), []).append((key, r))
    return where


class Lookup:
    """(index key, article id) -> its persisted whole vectors, read on demand."""

    def __init__(self, store: ObjectStore, fingerprint: str | None = None) -> None:
        self._store = store
        self._where = {k: rows[-1] for k, rows in locations(store, PREFIX, fingerprint).items()}  # the latest

    def fill(self, docs: Sequence) -> None:
        """Set ``sentvec`` of every doc (with sentences, no sentvec) found here."""
        by_key: dict[str, list] = {}
        for d in docs:
            hit = self._where.get((d.location[0], d.id)) if d.location else None
            if hit is not None and d.sentvec is None:
                by_key.setdefault(hit[0], []).append((d, hit[1]))
        for key, group in sorted(by_key.items()):
            rows = sorted({r for _, r in group})
            t = read_object(self._store, key, ["dim", "sentvec"]).take(pa.array(rows, type=pa.int64()))
            at = {r: k for k, r in enumerate(rows)}
            dims, vecs = t["dim"].to_pylist(), t["sentvec"].to_pylist()
            for d, r in group:
                k = at[r]
                m = np.frombuffer(vecs[k], dtype=np.float16).astype(np.float32).reshape(-1, dims[k])
                if len(m) == len(d.sentences or []):  # else stale: encoded again on demand
                    d.sentvec = m
