"""The related stage's durable state in the lake, under ``related/``.

One committed *generation* per refresh that changed something: ``related/<gen>/`` holds the
vector index (``index.npz``), the per-canonical scoring features (``docs.parquet``), the
current lists (``lists.parquet``), what the stage has seen (``seen.parquet``: article id,
batch, language), document frequencies (``df.parquet``) and ``state.json``; ``related/LATEST``
names the newest.  A generation id is derived from its inputs (dedup generation, article
batches, scoring settings), so a rerun over the same lake finds its work done.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import Settings
from pipeline.lake.store import ObjectStore
from pipeline.related.index import VectorIndex
from pipeline.related.scoring import Doc, Scored

LATEST = "related/LATEST"
FORMAT = 1
# Where the vectors come from.  Part of the fingerprint: vectors of another origin live in
# another space (before: title + lead encoded here; ``dedup-docvec+title/1``: dedup's stored body
# mean and title vector, the title weighted ``TITLE_WEIGHT``, encoded here only when
# dedup has none), so a change starts the state over instead of mixing them.
VECTORS = "dedup-docvec+title/1"
# The title's weight against the body mean in a related vector (``stage.related_vector``).
# Measured with ``newsflow eval related`` (nDCG@5): 1: 0.840, 1.5: 0.852, 2: 0.861, 3: 0.863,
# 5: 0.860; the body mean alone 0.501.  2 is where the plateau starts.
TITLE_WEIGHT = 2.0


def fingerprint(settings: Settings, encoder_name: str) -> str:
    """What, when changed, invalidates every stored score (then the refresh starts over)."""
    keys = ("related_k", "related_per_language", "related_weight_embedding", "related_weight_text",
            "related_weight_anchors", "related_half_life_days", "related_index", "related_hnsw_m")
    blob = json.dumps({k: getattr(settings, k) for k in keys}
                      | {"encoder": encoder_name, "format": FORMAT, "vectors": VECTORS, "title_weight": TITLE_WEIGHT},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def generation_id(dedup_generation: str | None, batches: set[str], fp: str) -> str:
    blob = "\n".join([dedup_generation or "-", fp, *sorted(batches)])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class State:
    fingerprint: str
    generation: str = ""
    dedup_generation: str | None = None
    batches: set[str] = field(default_factory=set)
    docs: dict[str, Doc] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # article_id -> index row
    lists: dict[str, list[Scored]] = field(default_factory=dict)
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # article_id -> (batch, language)
    df: Counter = field(default_factory=Counter)
    index: VectorIndex | None = None


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _table(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))


def save(store: ObjectStore, state: State) -> None:
    """Write ``state`` as generation ``state.generation`` and point LATEST at it."""
    base = f"related/{state.generation}/"
    docs = sorted(state.docs.values(), key=lambda d: d.article_id)
    store.put(base + "docs.parquet", _parquet(pa.table({
        "article_id": [d.article_id for d in docs],
        "story_id": [d.story_id for d in docs],
        "language": [d.language for d in docs],
        "languages": [list(d.languages) for d in docs],
        "days": pa.array([d.days for d in docs], pa.float64()),
        "anchors": [sorted(d.anchors) for d in docs],
        "terms": [list(d.terms) for d in docs],
        "weights": pa.array([list(d.terms.values()) for d in docs], pa.list_(pa.float32())),
        "row": pa.array([state.rows[d.article_id] for d in docs], pa.int64()),
    })))
    lists = [(a, s) for a in sorted(state.lists) for s in state.lists[a]]
    lists_table = pa.table({
        "article_id": [a for a, _ in lists], "related_id": [s.related_id for _, s in lists],
        "score": pa.array([s.score for _, s in lists], pa.float64()),
        "embedding": pa.array([s.embedding for _, s in lists], pa.float64()),
        "text": pa.array([s.text for _, s in lists], pa.float64()),
        "anchors": pa.array([s.anchors for _, s in lists], pa.float64()),
        "recency": pa.array([s.recency for _, s in lists], pa.float64()),
    })
    store.put(base + "lists.parquet", _parquet(lists_table))
    seen = sorted(state.seen.items())
    store.put(base + "seen.parquet", _parquet(pa.table({
        "article_id": [a for a, _ in seen], "batch_id": [b for _, (b, _) in seen], "language": [x for _, (_, x) in seen],
    })))
    terms = sorted(state.df.items())
    store.put(base + "df.parquet", _parquet(pa.table({"term": [t for t, _ in terms], "df": pa.array([n for _, n in terms], pa.int64())})))
    if state.index is not None:
        store.put(base + "index.npz", state.index.to_bytes())
    store.put(base + "state.json", json.dumps({
        "fingerprint": state.fingerprint, "dedup_generation": state.dedup_generation,
        "batches": sorted(state.batches), "format": FORMAT,
    }).encode())
    publish_lists(store, state.generation, lists_table)  # before LATEST: a rerun republishes
    previous = store.get(LATEST).decode().strip() if store.exists(LATEST) else None
    store.put(LATEST, state.generation.encode())
    if previous and previous != state.generation:  # keep the lake tidy: one generation
        for key in list(store.list(f"related/{previous}/")):
            store.delete(key)


def publish_lists(store: ObjectStore, generation: str, lists: pa.Table) -> None:
    """The current related lists as the lake's ``related_lists`` Delta table (each refresh
    that changed something replaces it), for outside readers; ``rank`` is 1-based per
    article.  The stage itself reads its own state objects above."""
    from pipeline.lake.batches import write_batch

    ranks = _ranks(lists["article_id"].to_pylist())
    write_batch(store, "related-lists", generation,
                lists.add_column(2, "rank", pa.array(ranks, pa.int32())), meta={"rows": lists.num_rows})


def _ranks(ids: list[str]) -> list[int]:
    out, prev, n = [], None, 0
    for aid in ids:
        n = n + 1 if aid == prev else 1
        out.append(n)
        prev = aid
    return out


def latest_generation(store: ObjectStore) -> str | None:
    return store.get(LATEST).decode().strip() if store.exists(LATEST) else None


def load(store: ObjectStore, fp: str, ef_search: int = 128) -> State | None:
    """The latest state when it was made with the same scoring settings, else None."""
    gen = latest_generation(store)
    if not gen or not store.exists(f"related/{gen}/state.json"):
        return None
    base = f"related/{gen}/"
    meta = json.loads(store.get(base + "state.json"))
    if meta.get("fingerprint") != fp or meta.get("format") != FORMAT:
        return None
    st = State(fp, gen, meta.get("dedup_generation"), set(meta.get("batches", [])))
    d = _table(store.get(base + "docs.parquet")).to_pydict()
    for i, aid in enumerate(d["article_id"]):
        st.docs[aid] = Doc(aid, d["story_id"][i], d["language"][i], tuple(d["languages"][i]), d["days"][i],
                           frozenset(d["anchors"][i]), dict(zip(d["terms"][i], d["weights"][i], strict=True)))
        st.rows[aid] = d["row"][i]
    ls = _table(store.get(base + "lists.parquet")).to_pydict()
    for i, aid in enumerate(ls["article_id"]):
        st.lists.setdefault(aid, []).append(Scored(ls["related_id"][i], ls["score"][i], ls["embedding"][i],
                                                    ls["text"][i], ls["anchors"][i], ls["recency"][i]))
    s = _table(store.get(base + "seen.parquet")).to_pydict()
    st.seen = {a: (b, x) for a, b, x in zip(s["article_id"], s["batch_id"], s["language"], strict=True)}
    f = _table(store.get(base + "df.parquet")).to_pydict()
    st.df = Counter(dict(zip(f["term"], f["df"], strict=True)))
    if store.exists(base + "index.npz"):
        st.index = VectorIndex.from_bytes(store.get(base + "index.npz"), ef_search)
    return st
