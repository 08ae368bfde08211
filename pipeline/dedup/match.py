"""Compare a batch of new documents with themselves and with known ones: exact, near,
translation edges.  Every candidate comes from an index, never from all pairs:

* exact: dictionaries of canonical URL, (source, guid), normalised-text hash;
* near (same language): LSH band keys (Jaccard) and postings of sampled shingles
  (containment: an excerpt inside its full text), verified exactly on shingle hashes;
* translation (different languages): doc-vector cosine inside the time window when the
  primary encoder covers both languages; postings of shared numbers/dates/names otherwise
  (language-independent, so Persian or Kurdish still find their original), verified by
  sentence alignment with the first encoder that covers both (``verify.verify_pair``).

Only pairs with at least one *new* document are considered, so a batch costs
O(new x candidates), whatever the size of what is known.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from pipeline.config import Settings
from pipeline.dedup.encoder import Encoder, covers
from pipeline.dedup.index import IndexedDoc
from pipeline.dedup.verify import near_measures, verify_pair
from pipeline.models import DedupEdge

SAMPLE_MOD = 4
MAX_POSTING = 64
CANDIDATES_PER_DOC = 10
ANCHOR_MIN_SHARED = 3
BLOCK = 512
NUMERIC = ("number", "date")

Pair = tuple[int, int]


def _key(i: int, j: int) -> Pair:
    return (i, j) if i < j else (j, i)


def exact_edges(docs: Sequence[IndexedDoc], n_new: int) -> list[DedupEdge]:
    """``docs[:n_new]`` are new; an edge needs one new end."""
    found: dict[Pair, list[str]] = {}
    for reason, keyf in (("canonical_url", lambda d: d.canonical_url or None),
                         ("guid", lambda d: (d.source_domain, d.guid) if d.guid else None),
                         ("text_hash", lambda d: d.norm_hash if d.eligible else None)):
        groups: dict[object, list[int]] = defaultdict(list)
        for i, d in enumerate(docs):
            k = keyf(d)
            if k is not None:
                groups[k].append(i)
        for members in groups.values():
            if len(members) < 2 or min(members) >= n_new:
                continue
            first = min(members, key=lambda i: docs[i].id)
            for i in members:  # a star on the smallest id, plus every new member
                if i != first and (i < n_new or first < n_new):
                    found.setdefault(_key(first, i), []).append(reason)
    edges = []
    for (i, j), reasons in found.items():
        a, b = sorted((docs[i], docs[j]), key=lambda d: d.id)
        ev = {"reasons": sorted(set(reasons)), "same_source": a.source_domain == b.source_domain}
        edges.append(DedupEdge(a.id, b.id, "exact", 1.0, ev))
    return edges


def _posting_pairs(keys: list[np.ndarray], groups: list[str], n_new: int,
                   max_posting: int | None) -> set[Pair]:
    """Pairs sharing a key (within the same group); one end new; long postings skipped."""
    lens = [len(k) for k in keys]
    if not sum(lens):
        return set()
    flat = np.concatenate([k.astype(np.uint64) for k in keys])
    owner = np.repeat(np.arange(len(keys)), lens)
    gid = {g: n for n, g in enumerate(sorted(set(groups)))}
    gcode = np.array([gid[g] for g in groups], dtype=np.uint64)[owner]
    order = np.lexsort((owner, flat, gcode))
    flat, owner, gcode = flat[order], owner[order], gcode[order]
    starts = np.flatnonzero(np.r_[True, (flat[1:] != flat[:-1]) | (gcode[1:] != gcode[:-1])])
    ends = np.r_[starts[1:], len(flat)]
    size = ends - starts
    keep = size >= 2
    if max_posting:
        keep &= size <= max_posting
    has_new = np.add.reduceat((owner < n_new).astype(np.int64), starts) > 0
    keep &= has_new
    pairs: set[Pair] = set()
    for s, e in zip(starts[keep], ends[keep], strict=True):
        members = np.unique(owner[s:e])
        new = members[members < n_new]
        if not len(new):
            continue
        for i in new:
            for j in members:
                if j != i:
                    pairs.add(_key(int(i), int(j)))
    return pairs


def near_edges(docs: Sequence[IndexedDoc], n_new: int, settings: Settings,
               skip: set[tuple[str, str]]) -> list[DedupEdge]:
    elig = [i for i, d in enumerate(docs) if d.eligible]
    langs = [docs[i].language for i in elig]
    bands = [docs[i].bands for i in elig]
    sampled = [docs[i].shingles[docs[i].shingles % SAMPLE_MOD == 0] for i in elig]
    n_new_e = sum(1 for i in elig if i < n_new)  # elig keeps order, so new come first
    cand = _posting_pairs(bands, langs, n_new_e, None)
    cand |= _posting_pairs(sampled, langs, n_new_e, MAX_POSTING)
    edges = []
    for x, y in sorted(cand):
        a, b = sorted((docs[elig[x]], docs[elig[y]]), key=lambda d: d.id)
        if (a.id, b.id) in skip or a.norm_hash == b.norm_hash:
            continue
        ov = near_measures(a.shingles, b.shingles)
        if ov["jaccard"] >= settings.near_jaccard or ov["containment"] >= settings.near_containment:
            ov["same_source"] = a.source_domain == b.source_domain
            edges.append(DedupEdge(a.id, b.id, "near", max(ov["jaccard"], ov["containment"]), ov))
    return edges


def _vector_candidates(docs: Sequence[IndexedDoc], n_new: int, primary: Encoder,
                       settings: Settings) -> dict[Pair, float]:
    idx = [i for i, d in enumerate(docs) if d.sentences != [] and d.eligible
           and covers(primary, d.language) and d.docvec is not None and d.docvec.any()]
    new = [i for i in idx if i < n_new]
    if not new:
        return {}
    vecs = np.vstack([docs[i].docvec for i in idx]).astype(np.float32)
    ts = np.array([docs[i].ts for i in idx])
    codes: dict[str, int] = {}
    langs = np.array([codes.setdefault(docs[i].language, len(codes)) for i in idx], dtype=np.int32)
    pos = {i: k for k, i in enumerate(idx)}
    window = settings.dedup_window_days * 86400.0
    out: dict[Pair, float] = {}
    for b0 in range(0, len(new), BLOCK):
        rows = np.array([pos[i] for i in new[b0 : b0 + BLOCK]])
        sims = vecs[rows] @ vecs.T
        ok = (sims >= settings.translation_candidate_cosine)
        ok &= np.abs(ts[rows, None] - ts[None, :]) <= window
        ok &= langs[rows, None] != langs[None, :]
        for r, row in enumerate(rows):
            cols = np.flatnonzero(ok[r])
            if len(cols) > CANDIDATES_PER_DOC:
                cols = cols[np.argsort(-sims[r, cols], kind="stable")[:CANDIDATES_PER_DOC]]
            for c in cols:
                out[_key(idx[row], idx[c])] = float(sims[r, c])
    return out


def _anchor_candidates(docs: Sequence[IndexedDoc], n_new: int, primary: Encoder,
                       settings: Settings, load=None) -> set[Pair]:
    """Cross-language pairs involving a language the primary encoder does not cover that
    share >= ``ANCHOR_MIN_SHARED`` numbers, dates or name skeletons (rare ones: postings
    of <= ``MAX_POSTING`` documents).  Candidates only: verification decides."""
    idx = [i for i, d in enumerate(docs) if d.eligible]
    if not any(i < n_new for i in idx) or all(covers(primary, docs[i].language) for i in idx):
        return set()
    if not any(i < n_new and not covers(primary, docs[i].language) for i in idx):
        # every new doc is covered: a pair needs an uncovered *known* end
        idx = [i for i in idx if i < n_new or not covers(primary, docs[i].language)]
    if load is not None:
        load([docs[i] for i in idx if docs[i].anchors is None])
    keys = [np.unique(np.array([hash_anchor(a.kind, a.value) for a in docs[i].anchors
                                if a.kind in NUMERIC or a.kind == "name"], dtype=np.uint64)) for i in idx]
    n_new_e = sum(1 for i in idx if i < n_new)
    counts = _shared_counts(keys, n_new_e)
    window = settings.dedup_window_days * 86400.0
    out = set()
    for (x, y), c in counts.items():
        a, b = docs[idx[x]], docs[idx[y]]
        if (c >= ANCHOR_MIN_SHARED and a.language != b.language
                and not (covers(primary, a.language) and covers(primary, b.language))
                and abs(a.ts - b.ts) <= window):
            out.add(_key(idx[x], idx[y]))
    return out


def _shared_counts(keys: list[np.ndarray], n_new: int) -> dict[Pair, int]:
    post: dict[int, list[int]] = defaultdict(list)
    for i, ks in enumerate(keys):
        for k in ks.tolist():
            post[k].append(i)
    counts: dict[Pair, int] = defaultdict(int)
    for members in post.values():
        if len(members) < 2 or len(members) > MAX_POSTING:
            continue
        for i in members:
            if i >= n_new:
                continue
            for j in members:
                if j != i and (j >= n_new or j > i):
                    counts[_key(i, j)] += 1
    return counts


def hash_anchor(kind: str, value: str) -> int:
    from pipeline.dedup.index import h32

    return h32(f"{kind}:{value}")


def translation_edges(docs: Sequence[IndexedDoc], n_new: int, chain: Sequence[Encoder],
                      settings: Settings, skip: set[tuple[str, str]],
                      load=None) -> list[DedupEdge]:
    """Verified translation edges; ``load(docs)`` fills sentences/vectors of known docs."""
    primary = chain[0]
    cand = set(_vector_candidates(docs, n_new, primary, settings))
    cand |= _anchor_candidates(docs, n_new, primary, settings, load)
    cand = {p for p in cand if tuple(sorted((docs[p[0]].id, docs[p[1]].id))) not in skip}
    if load is not None:
        load([docs[i] for p in cand for i in p if docs[i].sentences is None or docs[i].anchors is None])
    edges = []
    for i, j in sorted(cand):
        a, b = sorted((docs[i], docs[j]), key=lambda d: d.id)
        ev = verify_pair(a, b, chain, settings, full=False)
        if ev["accepted"]:
            edges.append(DedupEdge(a.id, b.id, "translation", ev["share"], ev))
    return edges


def match(new: Sequence[IndexedDoc], known: Sequence[IndexedDoc], chain: Sequence[Encoder],
          settings: Settings, load=None) -> list[DedupEdge]:
    """Every edge with at least one end in ``new`` (ends in ``known`` are already matched)."""
    new_ids = {d.id for d in new}
    docs = list(new) + [d for d in known if d.id not in new_ids]
    n_new = len(new)
    edges = exact_edges(docs, n_new)
    linked = {(e.a, e.b) for e in edges}
    edges += near_edges(docs, n_new, settings, linked)
    linked |= {(e.a, e.b) for e in edges}
    edges += translation_edges(docs, n_new, chain, settings, linked, load)
    edges.sort(key=lambda e: (e.a, e.b, e.kind))
    return edges
