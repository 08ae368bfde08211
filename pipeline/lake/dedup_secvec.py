"""Secondary-encoder vectors (e5) that dedup encoded on demand, persisted beside its index.

A language the primary encoder does not cover (Persian, Kurdish) is matched through a
secondary encoder: lead vectors of the other-language documents it might translate, and
whole-document vectors of the pairs it verifies (``pipeline.dedup.match``).  e5 encodes
about 40 sentences a second here, and before this module every run encoded the known
documents' vectors again: 20 new articles against 200 known encoded 4,829 e5 sentences.
The stage now writes what it encoded, one immutable object per matched batch,
``dedup-secvec/<batch id>.parquet``, rows (``index_key``, ``article_id``, ``name``: the
``IndexedDoc.extra`` key such as ``e5`` or ``e5:lead``, ``dim``, ``vec``, ``docvec``).  The
loader fills them back into light documents, so a later batch or ``explain`` never encodes
them again.

Vectors are stored as float32, as encoded: a replay decides exactly like the run that
encoded them (the primary encoder's float16 vectors are rounded before first use instead).
Each object carries the index fingerprint it was computed under; objects of another one
are ignored.  Takedowns rewrite these objects like the index's (``pipeline.lake.purge``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from pipeline.lake.dedup_sentvec import locations, put_object, read_object
from pipeline.lake.schema import with_version
from pipeline.lake.store import ObjectStore

PREFIX = "dedup-secvec"
SCHEMA = pa.schema([("index_key", pa.string()), ("article_id", pa.string()), ("name", pa.string()),
                    ("dim", pa.int32()), ("vec", pa.binary()), ("docvec", pa.binary())])


def key_for(batch_id: str) -> str:
    return f"{PREFIX}/{batch_id}.parquet"


def write(store: ObjectStore, batch_id: str, docs: Sequence, fingerprint: str | None) -> int:
    """Persist the vectors of ``docs`` encoded in this run (``extra_fresh``) that have a lake
    location; returns how many rows were written (nothing is written for none)."""
    fresh = [(d, name) for d in docs if d.location is not None for name in sorted(d.extra_fresh)
             if name in d.extra]
    if not fresh:
        return 0
    fresh.sort(key=lambda x: (x[0].location[0], x[0].id, x[1]))
    key = key_for(batch_id)
    seen = {(d.location[0], d.id, name) for d, name in fresh}
    keep = [r for r in read_object(store, key).to_pylist() if (r["index_key"], r["article_id"], r["name"]) not in seen] \
        if store.exists(key) else []  # a re-run of the same batch: keep what the earlier run stored
    table = pa.Table.from_pylist(
        keep + [{"index_key": d.location[0], "article_id": d.id, "name": name, "dim": int(d.extra[name][1].shape[0]),
                 "vec": np.ascontiguousarray(d.extra[name][0], dtype=np.float32).tobytes(),
                 "docvec": np.ascontiguousarray(d.extra[name][1], dtype=np.float32).tobytes()} for d, name in fresh],
        schema=with_version(SCHEMA, PREFIX))
    put_object(store, key, table, fingerprint)
    for d, _ in fresh:
        d.extra_fresh.clear()
    return len(fresh)


class Lookup:
    """(index key, article id) -> its persisted secondary vectors, read on demand."""

    def __init__(self, store: ObjectStore, fingerprint: str | None = None) -> None:
        self._store = store
        self._where = locations(store, PREFIX, fingerprint)

    def fill(self, docs: Sequence) -> None:
        """Set the ``extra`` entries of docs (sentences loaded) found here and not set yet."""
        by_key: dict[str, list] = {}
        for d in docs:
            for hit in self._where.get((d.location[0], d.id), ()) if d.location else ():
                by_key.setdefault(hit[0], []).append((d, hit[1]))
        for key, group in sorted(by_key.items()):
            rows = sorted({r for _, r in group})
            t = read_object(self._store, key, ["name", "dim", "vec", "docvec"]).take(pa.array(rows, type=pa.int64()))
            at = {r: k for k, r in enumerate(rows)}
            names, dims, vecs, dvs = (t[c].to_pylist() for c in ("name", "dim", "vec", "docvec"))
            for d, r in group:
                k = at[r]
                if names[k] in d.extra:
                    continue
                m = np.frombuffer(vecs[k], dtype=np.float32).reshape(-1, dims[k]).copy()
                whole = ":" not in names[k]
                if len(m) > len(d.sentences or []) or whole and len(m) != len(d.sentences or []):
                    continue  # stale: encoded again on demand
                d.extra[names[k]] = (m, np.frombuffer(dvs[k], dtype=np.float32).copy())
