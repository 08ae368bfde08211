"""Compare a batch of new documents with themselves and with known ones: exact, near,
translation edges.  Every candidate comes from an index, never from all pairs:

* exact: dictionaries of canonical URL, (source, guid), normalised-text hash;
* near (same language): LSH band keys (Jaccard) and postings of sampled shingles
  (containment: an excerpt inside its full text, an edited copy in other chrome);
* translation (different languages): the nearest document vectors in each other
  language (``pipeline.dedup.ann``: faiss, whole history), postings of shared rare
  numbers/dates/names (language-independent), and for languages the primary encoder
  does not cover (Persian, Czech), the nearest lead vectors of the secondary encoder.

Every candidate is then judged by ``pipeline.dedup.verify.verify``, the one rule that
``explain`` runs too.  Time is no filter anywhere: a reprint years later is found.
Only pairs with at least one *new* document are considered, so a batch costs
O(new x candidates) index look-ups, whatever the size of what is known.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from pipeline.config import Settings
from pipeline.dedup.encoder import Encoder, covers, sentence_threshold
from pipeline.dedup.index import IndexedDoc, anchor_key_array, pick_encoder, prefetch
from pipeline.dedup.sketch import complete, needs_full, sketch_gate
from pipeline.dedup.verify import verify
from pipeline.models import DedupEdge

SAMPLE_MOD = 4
MAX_POSTING = 64
CANDIDATES_PER_DOC = 10  # nearest per other language
LEAD_SENTENCES = 4  # secondary-encoder lead vectors (candidates for uncovered languages)
SECONDARY_POOL = 300  # above this, the secondary pool is the anchor-sharing documents
SECONDARY_CANDIDATES = 5  # nearest by secondary lead vector: each costs a whole-document e5 pass
ANCHOR_MIN_SHARED = 3
SECONDARY_MATES = 24  # past SECONDARY_POOL: the anchor-sharing mates (most shared first) given e5 lead vectors
SECONDARY_ANCHORED = 3  # anchor-proposed pairs the secondary encoder verifies per document

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
    if not sum(lens) or not n_new:
        return set()
    flat = np.concatenate([k.astype(np.uint64) for k in keys])
    owner = np.repeat(np.arange(len(keys)), lens)
    # only keys a new document holds can pair it: drop the rest of history before sorting
    keep = np.isin(flat, flat[owner < n_new])
    flat, owner = flat[keep], owner[keep]
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


def _near_candidates(docs: Sequence[IndexedDoc], n_new: int) -> set[Pair]:
    elig = [i for i, d in enumerate(docs) if d.eligible]
    langs = [docs[i].language for i in elig]
    bands = [docs[i].bands for i in elig]
    sampled = [docs[i].shingles[docs[i].shingles % SAMPLE_MOD == 0] for i in elig]
    n_new_e = sum(1 for i in elig if i < n_new)  # elig keeps order, so new come first
    cand = _posting_pairs(bands, langs, n_new_e, None)
    cand |= _posting_pairs(sampled, langs, n_new_e, MAX_POSTING)
    return {_key(elig[x], elig[y]) for x, y in cand}


def _vector_candidates(docs: Sequence[IndexedDoc], n_new: int, primary: Encoder,
                       settings: Settings) -> set[Pair]:
    """Each new document's nearest neighbours in every other language the primary
    encoder covers (top ``CANDIDATES_PER_DOC`` at cosine >= the candidate threshold)."""
    from pipeline.dedup.ann import build

    idx = [i for i, d in enumerate(docs) if d.eligible and covers(primary, d.language)
           and d.docvec is not None and d.docvec.any()]
    new = [i for i in idx if i < n_new]
    if not new:
        return set()
    index = build([(i, docs[i].language, docs[i].docvec) for i in idx], primary.dim)
    out: set[Pair] = set()
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i in new:
        by_lang[docs[i].language].append(i)
    for lang, rows in sorted(by_lang.items()):
        queries = np.vstack([docs[i].docvec for i in rows])
        for other in index.languages():
            if other == lang:
                continue
            sims, hits = index.search(other, queries, CANDIDATES_PER_DOC)
            for r, i in enumerate(rows):
                for sim, j in zip(sims[r], hits[r], strict=True):
                    if j >= 0 and sim >= settings.translation_candidate_cosine:
                        out.add(_key(i, int(j)))
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


def _anchor_keys(doc: IndexedDoc) -> np.ndarray:
    if doc.anchor_keys is None:
        doc.anchor_keys = anchor_key_array(doc.anchors or [])
    return doc.anchor_keys


def _anchor_candidates(docs: Sequence[IndexedDoc], n_new: int) -> dict[Pair, int]:
    """Cross-language pairs and how many rare numbers, dates or name skeletons (postings
    of <= ``MAX_POSTING`` documents) they share; language-independent."""
    idx = [i for i, d in enumerate(docs) if d.eligible and (d.anchor_keys is not None or d.anchors is not None)]
    if not any(i < n_new for i in idx):
        return {}
    keys = [_anchor_keys(docs[i]) for i in idx]
    n_new_e = sum(1 for i in idx if i < n_new)
    counts = _shared_counts(keys, n_new_e)
    return {_key(idx[x], idx[y]): c for (x, y), c in counts.items()
            if docs[idx[x]].language != docs[idx[y]].language}


def lead_vector(doc: IndexedDoc, encoder: Encoder) -> np.ndarray:
    """Normalised mean of ``encoder``'s vectors of the first ``LEAD_SENTENCES`` sentences
    (cached on the document; the full matrix is reused when already encoded)."""
    from pipeline.dedup.index import doc_vector

    key = f"{encoder.name}:lead"
    if key not in doc.extra:
        if encoder.name in doc.extra:
            m = doc.extra[encoder.name][0][:LEAD_SENTENCES]
        else:
            m = encoder.encode((doc.sentences or [])[:LEAD_SENTENCES])
            doc.extra_fresh.add(key)
        doc.extra[key] = (m, doc_vector(m, encoder.dim))
    return doc.extra[key][1]


def _lead_vectors(docs: Sequence[IndexedDoc], encoder: Encoder) -> None:
    """``lead_vector`` for many documents in one batched encoder call."""
    from pipeline.dedup.index import doc_vector

    key = f"{encoder.name}:lead"
    todo = [d for d in docs if key not in d.extra and encoder.name not in d.extra]
    flat = [s for d in todo for s in (d.sentences or [])[:LEAD_SENTENCES]]
    vecs = encoder.encode(flat) if flat else np.zeros((0, encoder.dim), dtype=np.float32)
    pos = 0
    for d in todo:
        n = len((d.sentences or [])[:LEAD_SENTENCES])
        d.extra[key] = (vecs[pos : pos + n], doc_vector(vecs[pos : pos + n], encoder.dim))
        d.extra_fresh.add(key)  # persisted by the stage (pipeline.lake.dedup_secvec)
        pos += n


def _secondary_candidates(docs: Sequence[IndexedDoc], n_new: int, chain: Sequence[Encoder],
                          anchor_pairs: dict[Pair, int], load=None) -> set[Pair]:
    """For documents in a language the primary encoder does not cover but a secondary one
    does: the ``SECONDARY_CANDIDATES`` nearest other-language documents by that encoder's
    lead vectors (e5 encodes about 15x slower than USE-m, so few are verified).  The pool
    is every eligible other-language document the encoder covers, or, past
    ``SECONDARY_POOL``, those sharing a rare anchor with the document."""
    primary = chain[0]
    out: set[Pair] = set()
    for enc in chain[1:]:
        uncovered = [i for i, d in enumerate(docs) if d.eligible and not covers(primary, d.language)
                     and covers(enc, d.language)]
        if not uncovered:
            continue
        pool = [i for i, d in enumerate(docs) if d.eligible and covers(enc, d.language)]
        anchored: dict[int, list[int]] = defaultdict(list)
        for i, j in anchor_pairs:
            anchored[i].append(j)
            anchored[j].append(i)
        plan = []
        for u in uncovered:
            near_pool = len(pool) <= SECONDARY_POOL
            mates = [j for j in (pool if near_pool else sorted(anchored.get(u, ())))
                     if docs[j].language != docs[u].language and (u < n_new or j < n_new)
                     and (near_pool or covers(enc, docs[j].language))]
            if not near_pool:  # e5 is slow: lead vectors for the best-anchored mates only
                mates = sorted(mates, key=lambda j: (-anchor_pairs[_key(u, j)], docs[j].id))[:SECONDARY_MATES]
            if mates:
                plan.append((u, mates))
        involved = sorted({x for u, mates in plan for x in (u, *mates)})
        if load is not None:
            load([docs[x] for x in involved if docs[x].sentences is None])
        prefetch([docs[u] for u, _ in plan], enc)  # verified anyway: whole documents
        _lead_vectors([docs[x] for x in involved], enc)
        for u, mates in plan:
            q = lead_vector(docs[u], enc)
            sims = np.array([float(q @ lead_vector(docs[j], enc)) for j in mates])
            for k in np.argsort(-sims, kind="stable")[:SECONDARY_CANDIDATES]:
                out.add(_key(u, mates[int(k)]))
    return out


def _capped_anchor_pairs(docs: Sequence[IndexedDoc], anchored: dict[Pair, int],
                         chain: Sequence[Encoder]) -> list[Pair]:
    """Anchor pairs sharing ``ANCHOR_MIN_SHARED`` anchors; a pair the secondary encoder
    would verify (it encodes whole documents, about 15x slower than USE-m) only among
    the ``SECONDARY_ANCHORED`` best-anchored mates of its end in a language the primary
    encoder does not cover (of either end when neither is covered).  Counted from the
    covered end too, the 6 Persian articles among the headline benchmark's 200 drew 650
    such pairs, and e5 encoded 3,734 sentences to verify them: four fifths of its work."""
    out, slow = [], defaultdict(list)
    for p, c in anchored.items():
        if c < ANCHOR_MIN_SHARED:
            continue
        enc = pick_encoder(chain, docs[p[0]].language, docs[p[1]].language)[0]
        if enc is chain[0]:
            out.append(p)
        else:
            ends = [x for x in p if not covers(chain[0], docs[x].language)] or list(p)
            for x in ends:
                slow[x].append((-c, docs[p[0] + p[1] - x].id, p))
    kept = {p for ranked in slow.values() for *_, p in sorted(ranked)[:SECONDARY_ANCHORED]}
    return out + sorted(kept)


def candidates(docs: Sequence[IndexedDoc], n_new: int, chain: Sequence[Encoder], settings: Settings,
               load=None) -> dict[Pair, list[str]]:
    """Every candidate pair with one end in ``docs[:n_new]``, and the indexes that
    proposed it (``lsh``, ``ann``, ``anchors``, ``secondary``)."""
    found: dict[Pair, set[str]] = defaultdict(set)
    for p in _near_candidates(docs, n_new):
        found[p].add("shingles")
    if len({d.language for d in docs if d.eligible}) >= 2 and chain:
        for p in _vector_candidates(docs, n_new, chain[0], settings):
            found[p].add("ann")
        if load is not None:  # only rows from before anchor keys were stored lack them
            load([d for d in docs if d.eligible and d.anchor_keys is None and d.anchors is None])
        anchored = _anchor_candidates(docs, n_new)
        for p in _capped_anchor_pairs(docs, anchored, chain):
            found[p].add("anchors")
        for p in _secondary_candidates(docs, n_new, chain, anchored, load):
            found[p].add("secondary")
    return {p: sorted(s) for p, s in found.items()}


def complete_for(docs: Sequence[IndexedDoc], pairs: Sequence[Pair], chain: Sequence[Encoder],
                 settings: Settings) -> int:
    """Whole primary sentence vectors for every document of a cross-language pair the
    primary encoder verifies and whose sketches pass ``sketch_gate`` (the same test
    ``verify`` applies), in ONE batched call; returns the sentences encoded."""
    if not chain:
        return 0
    primary = chain[0]
    thr = sentence_threshold(primary, settings.translation_sentence_cosine)
    need = []
    for i, j in pairs:
        a, b = docs[i], docs[j]
        if a.language == b.language:
            continue
        enc, covered = pick_encoder(chain, a.language, b.language)
        if enc is not primary:
            continue
        if covered and not sketch_gate(a, b, thr)["passed"]:
            continue
        need += [d for d in (a, b) if needs_full(d, primary.name)]
    return complete(need, primary)


def match(new: Sequence[IndexedDoc], known: Sequence[IndexedDoc], chain: Sequence[Encoder],
          settings: Settings, load=None) -> list[DedupEdge]:
    """Every edge with at least one end in ``new`` (ends in ``known`` are already matched).
    ``load(docs)`` fills the heavy material (sentences, vectors, anchors) of known docs."""
    new_ids = {d.id for d in new}
    docs = list(new) + [d for d in known if d.id not in new_ids]
    n_new = len(new)
    edges = exact_edges(docs, n_new)
    linked = {(e.a, e.b) for e in edges}
    cand = candidates(docs, n_new, chain, settings, load)
    todo = {p: src for p, src in cand.items()
            if tuple(sorted((docs[p[0]].id, docs[p[1]].id))) not in linked
            and docs[p[0]].norm_hash != docs[p[1]].norm_hash}
    if load is not None:
        load([docs[i] for p in todo for i in p if docs[i].sentences is None or docs[i].shingle_seq is None])
    complete_for(docs, list(todo), chain, settings)
    for enc in chain[1:]:  # secondary encoders: every pair they will verify, in one call
        pairs = [(i, j) for i, j in todo if docs[i].language != docs[j].language
                 and pick_encoder(chain, docs[i].language, docs[j].language)[0] is enc]
        prefetch([docs[x] for p in pairs for x in p], enc)
    for (i, j), sources in sorted(todo.items()):
        a, b = sorted((docs[i], docs[j]), key=lambda d: d.id)
        ev = verify(a, b, chain, settings, full=False)
        if ev["accepted"]:
            ev["candidate_sources"] = sources
            edges.append(DedupEdge(a.id, b.id, ev["kind"], ev["score"], ev))
    edges.sort(key=lambda e: (e.a, e.b, e.kind))
    return edges
