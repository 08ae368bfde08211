"""Dedup state in the lake: the persisted index (objects), per-batch edges and generations (tables).

* ``dedup-index/<article batch id>.parquet``: the matching material of every article of
  that batch (``pipeline.indexed.IndexedDoc``: identities, shingle hashes, LSH band
  keys, anchors, sentences, float16 sketch, document and title vectors, and the whole
  sentence vectors when known at index time; the ones encoded later, for candidate pairs,
  live in ``dedup-sentvec/``, ``pipeline.lake.dedup_sentvec``).  It stays an
  immutable object per batch, not a table: it is a derived cache (recomputed from the
  articles table whenever missing or of another settings fingerprint, recorded in the
  file's own metadata), and the matcher loads sentences lazily by (file, row position),
  which a table's compaction would reorder.  The related stage reuses the document and
  title vectors (``read_docvecs``) rather than encoding again;
* table ``dedup_batch_edges``: per article batch (``batch_id``), the edges between that
  batch and everything indexed before it, with the match fingerprint in ``batch_meta``;
* tables ``dedup_assignments`` / ``dedup_edges`` / ``dedup_aliases``: one generation, the
  stories of the whole known corpus clustered from all batch edges
  (``pipeline.lake.dedup_generation``, re-exported here).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.failpoints import failpoint
from pipeline.indexed import IndexedDoc
from pipeline.lake.batches import Batch, list_batches, read_batches, write_batch
from pipeline.lake.dedup_generation import (  # noqa: F401  (re-exported: the zone's public API)
    ALIAS_SCHEMA,
    ASSIGNMENT_COLUMNS,
    EDGE_COLUMNS,
    GENERATION_KINDS,
    Generation,
    _generation_table,
    generation_counts,
    generation_id_for,
    latest_id,
    read_latest,
    write_generation,
)
from pipeline.lake.schema import check_version, edges_to_table, with_version
from pipeline.lake.store import ObjectStore
from pipeline.models import Anchor, DedupEdge

INDEX = "dedup-index"
BATCH_EDGES = "dedup-batch-edges"

_ANCHOR = pa.struct([("kind", pa.string()), ("value", pa.string()), ("position", pa.int32())])
INDEX_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("language", pa.string()),
    ("published_at", pa.timestamp("us", tz="UTC")), ("eligible", pa.bool_()),
    ("norm_hash", pa.string()), ("canonical_url", pa.string()), ("url", pa.string()),
    ("guid", pa.string()), ("source_domain", pa.string()), ("translator", pa.string()),
    ("original_outlet", pa.string()), ("original_domain", pa.string()),
    ("original_url", pa.string()), ("shingles", pa.list_(pa.uint32())),
    ("bands", pa.list_(pa.uint64())), ("anchors", pa.list_(_ANCHOR)),
    ("encoder", pa.string()), ("dim", pa.int32()), ("docvec", pa.binary()),
    ("sentences", pa.list_(pa.string())), ("sentvec", pa.binary()),
    ("titlevec", pa.binary()),
    ("spans", pa.list_(pa.int32())),  # sentence character offsets, flattened start/end pairs
    ("shingle_seq", pa.list_(pa.uint32())),  # shingle hashes in text order
    ("anchor_keys", pa.list_(pa.uint64())),  # light postings keys of numbers, dates, names
    ("sketch_rows", pa.list_(pa.int32())), ("sketchvec", pa.binary()),  # sentvec null: sketch only
])
# loaded lazily, for candidates only (``titlevec`` is never loaded for matching: dedup does not use it)
HEAVY = ("sentences", "sentvec", "anchors", "titlevec", "spans", "shingle_seq", "sketch_rows", "sketchvec")
_LOADED = ["sentences", "sentvec", "dim", "anchors", "spans", "shingle_seq", "sketch_rows", "sketchvec"]
LIGHT = [n for n in INDEX_SCHEMA.names if n not in HEAVY]
_META = ("article_id", "language", "published_at", "translator", "original_outlet", "source_domain")


# ----------------------------------------------------------------------------- index


def _f16(m: np.ndarray | None) -> bytes:
    return b"" if m is None else np.asarray(m, dtype=np.float16).tobytes()


def index_to_table(docs: Sequence) -> pa.Table:
    rows = [{
        "article_id": d.id, "language": d.language, "published_at": d.published_at,
        "eligible": d.eligible, "norm_hash": d.norm_hash, "canonical_url": d.canonical_url,
        "url": d.url, "guid": d.guid, "source_domain": d.source_domain, "translator": d.translator,
        "original_outlet": d.original_outlet, "original_domain": d.original_domain,
        "original_url": d.original_url, "shingles": d.shingles.tolist(), "bands": d.bands.tolist(),
        "anchors": [{"kind": a.kind, "value": a.value, "position": a.position} for a in d.anchors],
        "encoder": d.encoder, "dim": int(d.docvec.shape[0]) if d.docvec is not None else 0,
        "docvec": _f16(d.docvec), "sentences": d.sentences or [],
        "sentvec": None if d.sentvec is None else _f16(d.sentvec),  # null: not yet encoded
        "sketch_rows": d.sketch_rows, "sketchvec": None if d.sketchvec is None else _f16(d.sketchvec),
        "titlevec": _f16(d.titlevec),
        "spans": [x for span in d.spans or [] for x in span],
        "shingle_seq": d.shingle_seq.tolist() if d.shingle_seq is not None else [],
        "anchor_keys": d.anchor_keys.tolist() if d.anchor_keys is not None else [],
    } for d in sorted(docs, key=lambda d: d.id)]
    return pa.Table.from_pylist(rows, schema=with_version(INDEX_SCHEMA, INDEX))


def index_key(batch_id: str) -> str:
    return f"{INDEX}/{batch_id}.parquet"


def write_index(store: ObjectStore, batch_id: str, docs: Sequence, fingerprint: str) -> Batch:
    """One object per batch (atomic put); the fingerprint rides in the file's metadata."""
    table = index_to_table(docs)
    meta = {"fingerprint": fingerprint, "articles": len(docs)}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"newsflow.meta": json.dumps(meta).encode()})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    store.put(index_key(batch_id), buf.getvalue())
    return Batch(INDEX, batch_id, len(docs), meta)


def _vec(buf: bytes, dim: int) -> np.ndarray:
    return np.frombuffer(buf, dtype=np.float16).astype(np.float32).reshape(-1, dim) if dim else \
        np.zeros((0, 1), dtype=np.float32)


def table_to_index(table: pa.Table, key: str | None = None) -> list:
    """IndexedDocs from index rows; without the heavy columns, ``sentences`` stays None
    and ``location`` says where to load them (``load_sentences``)."""
    cols = {n: table[n].to_pylist() for n in table.column_names
            if n not in ("shingles", "bands", "shingle_seq", "anchor_keys")}
    sh = _lists(table["shingles"], np.uint32)
    bd = _lists(table["bands"], np.uint64)
    heavy = "sentvec" in table.column_names
    seqs = _lists(table["shingle_seq"], np.uint32) if "shingle_seq" in table.column_names else None
    akeys = _lists(table["anchor_keys"], np.uint64) if "anchor_keys" in table.column_names else None
    titled = "titlevec" in table.column_names
    out = []
    for r in range(table.num_rows):
        dim = cols["dim"][r]
        docvec = _vec(cols["docvec"][r], dim)
        out.append(IndexedDoc(
            id=cols["article_id"][r], language=cols["language"][r], published_at=cols["published_at"][r],
            eligible=cols["eligible"][r], norm_hash=cols["norm_hash"][r],
            canonical_url=cols["canonical_url"][r], url=cols["url"][r], guid=cols["guid"][r],
            source_domain=cols["source_domain"][r], translator=cols["translator"][r],
            original_outlet=cols["original_outlet"][r], original_domain=cols["original_domain"][r],
            original_url=cols["original_url"][r], shingles=sh[r], bands=bd[r],
            anchors=[Anchor(**x) for x in cols["anchors"][r] or []] if heavy else None,
            sentences=cols["sentences"][r] if heavy else None,
            sentvec=_vec(cols["sentvec"][r], dim) if heavy and cols["sentvec"][r] is not None else None,
            sketch_rows=cols["sketch_rows"][r] if "sketch_rows" in cols else None,
            sketchvec=_vec(cols["sketchvec"][r], dim) if cols.get("sketchvec", [None] * (r + 1))[r] is not None
            else None,
            docvec=docvec[0] if len(docvec) else np.zeros(max(dim, 1), dtype=np.float32),
            titlevec=_vec(cols["titlevec"][r], dim)[0] if titled and dim and cols["titlevec"][r] else None,
            encoder=cols["encoder"][r], location=(key, r) if key else None,
            spans=_pairs(cols["spans"][r]) if "spans" in cols else None,
            shingle_seq=seqs[r] if seqs is not None else None,
            anchor_keys=akeys[r] if akeys is not None else None,
        ))
    return out


def _lists(column: pa.ChunkedArray, dtype) -> list[np.ndarray]:
    """A list column as numpy arrays, without a Python object per element."""
    arr = column.combine_chunks()
    values = arr.values.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    offsets = arr.offsets.to_numpy()
    return [values[offsets[i]:offsets[i + 1]] for i in range(len(arr))]


def _pairs(flat: list[int] | None) -> list[tuple[int, int]]:
    flat = flat or []
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2)]


def _read(store: ObjectStore, key: str, columns: list[str]) -> pa.Table:
    table = pq.read_table(io.BytesIO(store.get(key)), columns=columns)
    check_version(table.schema)
    return table


def index_manifest(store: ObjectStore, batch_id: str) -> Batch | None:
    """The batch's index record (fingerprint, articles); None when absent or unreadable
    (then the stage simply indexes the batch again)."""
    key = index_key(batch_id)
    if not store.exists(key):
        return None
    try:
        md = pq.read_metadata(io.BytesIO(store.get(key)))
    except (pa.ArrowException, OSError):
        return None
    meta = json.loads((md.metadata or {}).get(b"newsflow.meta", b"{}"))
    return Batch(INDEX, batch_id, md.num_rows, meta)


def index_batches(store: ObjectStore) -> list[str]:
    """Batch ids with an index object, oldest first."""
    return sorted(k.rsplit("/", 1)[1].removesuffix(".parquet") for k in store.list(f"{INDEX}/")
                  if k.endswith(".parquet"))


def _read_present(store: ObjectStore, key: str, columns: list[str]) -> pa.Table:
    """Like ``_read``, leaving out the ``columns`` an older file does not have."""
    f = pq.ParquetFile(io.BytesIO(store.get(key)))
    check_version(f.schema_arrow)
    return f.read(columns=[c for c in columns if c in f.schema_arrow.names])


def read_index(store: ObjectStore, batch_id: str) -> list:
    key = index_key(batch_id)
    return table_to_index(_read_present(store, key, INDEX_SCHEMA.names), key) if store.exists(key) else []


def load_known(store: ObjectStore, batch_ids: Iterable[str], cache: dict[str, list] | None = None) -> list:
    """Light index rows (no sentences, vectors of sentences or anchors) of every article of
    ``batch_ids``: candidates come from the whole history, never from a time window.  An
    article indexed in several batches keeps its latest row.  ``cache`` (batch id -> rows)
    lets one stage run read each batch once, however many batches it matches."""
    found: dict[str, object] = {}
    for bid in sorted(batch_ids):
        if cache is not None and bid in cache:
            rows = cache[bid]
        else:
            key = index_key(bid)
            rows = table_to_index(_read(store, key, LIGHT), key) if store.exists(key) else []
            if cache is not None:
                cache[bid] = rows
        for d in rows:
            found[d.id] = d
    return list(found.values())


def unload(docs: Sequence) -> None:
    """Drop what ``loader`` filled in (and encoders cached) on light rows kept in a cache,
    so memory stays near the light columns between batches; a secondary encoder's lead
    vector (one small vector, costly to encode) is kept."""
    for d in docs:
        if d.location is not None and d.sentences is not None:
            d.sentences = d.sentvec = d.anchors = d.spans = d.shingle_seq = None
            d.sketch_rows = d.sketchvec = None
            d.extra = {k: v for k, v in d.extra.items() if k.endswith(":lead")}


def loader(store: ObjectStore, fingerprint: str | None = None):
    """A ``load(docs)`` callback filling sentences, primary vectors (the sketch, and every
    sentence's once encoded: ``dedup_sentvec``), the secondary encoder's once encoded
    (``dedup_secvec``) and anchors of light docs, one file read per lake file involved."""
    from pipeline.lake.dedup_secvec import Lookup as SecondaryLookup
    from pipeline.lake.dedup_sentvec import Lookup

    lookup: list[Lookup] = []
    secondary: list[SecondaryLookup] = []

    def load(docs: Sequence) -> None:
        by_key: dict[str, list] = {}
        for d in docs:
            if d.sentences is None and d.location:
                by_key.setdefault(d.location[0], []).append(d)
        for key, group in sorted(by_key.items()):
            rows = pa.array(sorted({d.location[1] for d in group}), type=pa.int64())
            t = _read_present(store, key, _LOADED).take(rows)
            at = {r: k for k, r in enumerate(rows.to_pylist())}
            sents, vecs, dims = t["sentences"].to_pylist(), t["sentvec"].to_pylist(), t["dim"].to_pylist()
            anchors, spans = t["anchors"].to_pylist(), t["spans"].to_pylist()
            none = [None] * t.num_rows  # files from before sketches: the whole text was encoded
            srows, svecs = [(t[c].to_pylist() if c in t.column_names else none) for c in ("sketch_rows", "sketchvec")]
            seqs = _lists(t["shingle_seq"], np.uint32)
            for d in group:
                k = at[d.location[1]]
                d.sentences = sents[k]
                d.sentvec = None if vecs[k] is None else _vec(vecs[k], dims[k])
                d.sketch_rows, d.sketchvec = srows[k], None if svecs[k] is None else _vec(svecs[k], dims[k])
                d.anchors = [Anchor(**x) for x in anchors[k] or []]
                d.spans = _pairs(spans[k])
                d.shingle_seq = seqs[k]
        pending = [d for d in docs if d.sentvec is None and d.sentences and d.location]
        if pending:
            if not lookup:
                lookup.append(Lookup(store, fingerprint))
            lookup[0].fill(pending)
        loaded = [d for group in by_key.values() for d in group]
        if loaded:  # the secondary encoder's vectors of an earlier run (dedup_secvec)
            if not secondary:
                secondary.append(SecondaryLookup(store, fingerprint))
            secondary[0].fill(loaded)
    return load


DOCVEC_COLUMNS = ["article_id", "encoder", "dim", "docvec", "titlevec"]


class DocVectors(NamedTuple):
    """What dedup stored of one article for other stages to reuse (float32)."""

    docvec: np.ndarray  # L2-normalised mean of the body's sketch sentence vectors
    titlevec: np.ndarray | None  # the title's vector; None without a title (or an older file)


def _unit(buf: bytes | None, dim: int) -> np.ndarray | None:
    if not dim or not buf:
        return None
    v = np.frombuffer(buf, dtype=np.float16).astype(np.float32)
    n = float(np.linalg.norm(v))
    return v / n if v.shape[0] == dim and n > 0 else None  # renormalised: float16 moves the norm by ~1e-3


def read_docvecs(store: ObjectStore, batch_ids: Iterable[str], *, article_ids: Iterable[str] | None = None,
                 encoder: str | None = None) -> dict[str, DocVectors]:
    """id -> the document and title vectors dedup stored for it, read from the index of
    ``batch_ids``, so that other stages (related) reuse them instead of encoding again.

    Reads only ``DOCVEC_COLUMNS`` (about 2 KB per article at 512-d), never the sentences
    or their vectors.  ``article_ids`` keeps just those rows; ``encoder`` keeps just rows of
    that encoder (another encoder's vectors live in another space).  Rows whose document
    vector is all zeros (articles too short for dedup, or with nothing to encode) are left
    out: the caller must embed those itself.  An article indexed in several batches keeps
    the row of the latest batch."""
    import pyarrow.compute as pc

    wanted = None if article_ids is None else pa.array(sorted(set(article_ids)), type=pa.string())
    if wanted is not None and not len(wanted):
        return {}
    out: dict[str, DocVectors] = {}
    for bid in sorted(set(batch_ids)):
        key = index_key(bid)
        for f in [key] if store.exists(key) else []:
            t = _read_present(store, f, DOCVEC_COLUMNS)
            if wanted is not None:
                t = t.filter(pc.is_in(t["article_id"], value_set=wanted))
            if encoder is not None:
                t = t.filter(pc.equal(t["encoder"], encoder))
            titles = t["titlevec"].to_pylist() if "titlevec" in t.column_names else [None] * t.num_rows
            for aid, dim, doc, title in zip(t["article_id"].to_pylist(), t["dim"].to_pylist(),
                                            t["docvec"].to_pylist(), titles, strict=True):
                docvec = _unit(doc, dim)
                if docvec is not None:
                    out[aid] = DocVectors(docvec, _unit(title, dim))
    return out


def read_meta(store: ObjectStore, batch_ids: Iterable[str]) -> dict[str, dict]:
    """id -> the fields the canonical choice reads, for every indexed article, plus
    ``batch_id``: the first batch that held it (story ids follow first arrival)."""
    out: dict[str, dict] = {}
    for bid in sorted(batch_ids):
        key = index_key(bid)
        for f in [key] if store.exists(key) else []:
            for row in _read(store, f, list(_META)).to_pylist():
                first = out.get(row["article_id"], {}).get("batch_id", bid)
                out[row["article_id"]] = {**row, "batch_id": first}
    return out


# ----------------------------------------------------------------------------- edges


def write_batch_edges(store: ObjectStore, batch_id: str, edges: list[DedupEdge], fingerprint: str) -> None:
    write_batch(store, BATCH_EDGES, batch_id, edges_to_table(sorted(edges, key=lambda e: (e.a, e.b, e.kind))),
                meta={"fingerprint": fingerprint, "edges": len(edges)})
    failpoint("mid_dedup")  # fault tests: one batch matched, the generation not yet written


def batch_edges_fingerprints(store: ObjectStore) -> dict[str, str | None]:
    """article batch id -> the match fingerprint its edges were computed with."""
    return {b.batch_id: b.meta.get("fingerprint") for b in list_batches(store, BATCH_EDGES)}


def batch_edges_fingerprint(store: ObjectStore, batch_id: str) -> str | None:
    return batch_edges_fingerprints(store).get(batch_id)


def read_batch_edges(store: ObjectStore, batch_ids: Iterable[str],
                     current: dict[str, str] | None = None) -> list[DedupEdge]:
    """Edges of ``batch_ids``; with ``current`` (article id -> batch of its current
    version), only edges computed after both ends' current versions were stored."""
    from pipeline.lake import integrity

    t = integrity.guarded_read(store, BATCH_EDGES, batch_ids=sorted(set(batch_ids)), columns=["batch_id", *EDGE_COLUMNS])
    if t is None:
        return []
    rows = (t.sort_by("batch_id") if t.num_rows > 1 else t).to_pylist()
    if current:
        rows = [r for r in rows if current.get(r["a"], r["batch_id"]) <= r["batch_id"]
                and current.get(r["b"], r["batch_id"]) <= r["batch_id"]]
    return [DedupEdge(r["a"], r["b"], r["kind"], r["score"], json.loads(r["evidence"])) for r in rows]


def current_batches(store: ObjectStore) -> dict[str, str]:
    """article id -> the batch holding its current (latest) version."""
    t = read_batches(store, "articles", columns=["article_id", "batch_id"])
    if t is None:
        return {}
    out: dict[str, str] = {}
    for a, b in zip(t["article_id"].to_pylist(), t["batch_id"].to_pylist(), strict=True):
        out[a] = max(b, out.get(a, b))
    return out


__all__ = ["Generation", "generation_id_for", "write_generation", "read_latest", "list_batches",
           "generation_counts", "write_index", "read_index", "load_known", "loader", "read_meta", "read_docvecs", "DocVectors",
           "write_batch_edges", "read_batch_edges", "batch_edges_fingerprint", "batch_edges_fingerprints",
           "latest_id", "index_batches", "index_key"]
