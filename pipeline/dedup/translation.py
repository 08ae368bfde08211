"""Stage 3: republished translations (different languages), by sentence alignment.

1. Candidates: each article's document vector (mean of its sentence vectors,
   normalised) is compared, by one matrix product per block of time-sorted articles,
   with the articles in *other* languages published within ``dedup_window_days``; pairs
   at cosine >= ``translation_candidate_cosine`` are kept (at most
   ``CANDIDATES_PER_DOC`` per article, best first).
2. Verification: mutual best sentence matches with cosine >=
   ``translation_sentence_cosine``, the longest in-order (monotonic) chain of them, and
   ``share`` = chain length / sentences of the shorter document.  A translation keeps
   the order of its sentences; another article on the same event does not.
3. Corroboration (``pipeline.dedup.corroborate``): shared numbers/years/dates, name
   skeletons, and attribution naming the other's outlet.
4. Decision (``decide``):
   * both languages covered by the encoder: share >= ``translation_min_share``, or
     share >= ``WEAK_SHARE`` with strong anchors or attribution;
   * otherwise (e.g. Persian, Kurdish with USE-m, whose vectors for unrelated documents
     of one such language align at up to 1.0): share >= ``translation_min_share`` AND
     strong anchors or attribution.

Calibration on ``corpora/parallel/ntrex-dev`` (30 English news documents with human
Arabic, Persian and Sorani Kurdish translations; sentence splitting with
``pipeline.extract.textnorm.sentences``; USE-m; see tests/unit/test_dedup_ntrex.py):

* true en-ar pairs (30): share min 0.62, median 0.93; doc cosine min 0.73; all accepted;
* false en-ar pairs (870): share max 0.25; doc cosine max 0.79; false ar-ar (435): share
  max 0.25 — so ``translation_min_share`` 0.50 and ``WEAK_SHARE`` 0.35 keep a margin on
  both sides;
* false fa-fa / ckb-ckb / fa-ckb pairs (encoder not covering them): share up to 0.60 /
  0.75 / 0.33 — above 0.5, so alignment alone would merge them; strong anchors
  (``strong_anchors``) hold in 0 false pairs of any language combination, which is what
  keeps them apart;
* true en-fa / en-ckb pairs: share max 0.14 / 0.00 — not detectable with USE-m
  (a known limitation; a Persian-capable encoder would be needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.config import Settings
from pipeline.dedup.corroborate import anchor_overlap, attribution
from pipeline.dedup.encoder import Encoder, covers
from pipeline.dedup.prep import Prepared
from pipeline.extract.textnorm import sentences
from pipeline.models import DedupEdge

MAX_SENTENCES = 150
CANDIDATES_PER_DOC = 10
BLOCK = 512
WEAK_SHARE = 0.35
MIN_CHAIN = 2
EVIDENCE_PAIRS = 5
EVIDENCE_CHARS = 160


@dataclass
class Embedded:
    """Sentences of one article and their vectors; ``vector`` is the document vector."""

    doc: Prepared
    sentences: list[str]
    matrix: np.ndarray
    vector: np.ndarray


def embed(docs: Sequence[Prepared], encoder: Encoder) -> list[Embedded]:
    """Encode every sentence of every document in one batched call."""
    sents = [sentences(d.article.body_text or "")[:MAX_SENTENCES] for d in docs]
    flat = [s for ss in sents for s in ss]
    vecs = encoder.encode(flat) if flat else np.zeros((0, encoder.dim), dtype=np.float32)
    out: list[Embedded] = []
    pos = 0
    for d, ss in zip(docs, sents, strict=True):
        m = vecs[pos : pos + len(ss)]
        pos += len(ss)
        v = m.mean(axis=0) if len(ss) else np.zeros(encoder.dim, dtype=np.float32)
        n = float(np.linalg.norm(v))
        out.append(Embedded(d, ss, m, v / n if n > 0 else v))
    return out


def _longest_increasing(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Longest chain with strictly increasing i and j (pairs are sorted by i, i unique)."""
    import bisect

    tails: list[int] = []  # j value ending the best chain of each length
    tail_idx: list[int] = []
    prev = [-1] * len(pairs)
    for k, (_i, j, _c) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_idx.append(k)
        else:
            tails[pos] = j
            tail_idx[pos] = k
        prev[k] = tail_idx[pos - 1] if pos else -1
    chain: list[tuple[int, int, float]] = []
    k = tail_idx[-1] if tail_idx else -1
    while k >= 0:
        chain.append(pairs[k])
        k = prev[k]
    return chain[::-1]


def align(a: Embedded, b: Embedded, threshold: float) -> tuple[float, list[tuple[int, int, float]]]:
    """(share, monotonic chain of mutual best sentence matches) for two documents."""
    if not a.sentences or not b.sentences:
        return 0.0, []
    sims = a.matrix @ b.matrix.T
    best_j = sims.argmax(axis=1)
    best_i = sims.argmax(axis=0)
    pairs = [
        (i, int(j), float(sims[i, j]))
        for i, j in enumerate(best_j)
        if best_i[j] == i and sims[i, j] >= threshold
    ]
    chain = _longest_increasing(pairs)
    share = len(chain) / min(len(a.sentences), len(b.sentences))
    return round(share, 4), chain


def strong_anchors(ov: dict) -> bool:
    """Numbers/dates agreeing, optionally backed by names (calibrated on ntrex-dev)."""
    if ov["numeric_shared"] >= 3 and ov["numeric_jaccard"] >= 0.5:
        return True
    return (
        ov["numeric_shared"] >= 1
        and ov["numeric_jaccard"] >= 0.5
        and ov["names_shared"] >= 2
        and ov["names_coverage"] >= 0.5
    )


def decide(share: float, chain_len: int, covered: bool, strong: bool, attributed: bool,
           settings: Settings) -> tuple[bool, str]:
    """The acceptance rule in the module docstring; returns (accepted, reason)."""
    if chain_len < MIN_CHAIN:
        return False, "too few aligned sentences"
    corroborated = strong or attributed
    if covered:
        if share >= settings.translation_min_share:
            return True, "aligned"
        if share >= WEAK_SHARE and corroborated:
            return True, "partly aligned, corroborated by " + ("anchors" if strong else "attribution")
        return False, "alignment share too low"
    if share >= settings.translation_min_share and corroborated:
        return True, "aligned (language not covered by encoder) and corroborated"
    if share < settings.translation_min_share:
        return False, "alignment share too low"
    return False, "language not covered by encoder and no anchor/attribution corroboration"


def verify(a: Embedded, b: Embedded, encoder: Encoder, settings: Settings) -> dict:
    """Every measure for one candidate pair, its thresholds and the decision."""
    share, chain = align(a, b, settings.translation_sentence_cosine)
    ov = anchor_overlap(a.doc.anchors, b.doc.anchors)
    attr = attribution(a.doc.article, b.doc.article)
    la, lb = a.doc.article.language, b.doc.article.language
    covered = covers(encoder, la) and covers(encoder, lb)
    strong = strong_anchors(ov)
    accepted, reason = decide(share, len(chain), covered, strong,
                              attr["names_other_outlet"], settings)
    top = sorted(chain, key=lambda p: (-p[2], p[0]))[:EVIDENCE_PAIRS]
    return {
        "accepted": accepted,
        "reason": reason,
        "share": share,
        "min_share": settings.translation_min_share,
        "weak_share": WEAK_SHARE,
        "sentence_cosine_threshold": settings.translation_sentence_cosine,
        "doc_cosine": round(float(a.vector @ b.vector), 4),
        "candidate_cosine_threshold": settings.translation_candidate_cosine,
        "aligned": len(chain),
        "sentences_a": len(a.sentences),
        "sentences_b": len(b.sentences),
        "languages": [la, lb],
        "encoder": encoder.name,
        "encoder_covers_languages": covered,
        "aligned_pairs": [
            {"a": a.sentences[i][:EVIDENCE_CHARS], "b": b.sentences[j][:EVIDENCE_CHARS],
             "cosine": round(c, 4)}
            for i, j, c in sorted(top)
        ],
        "anchors": ov,
        "strong_anchors": strong,
        "attribution": attr,
    }


def _times(emb: Sequence[Embedded]) -> np.ndarray:
    return np.array([e.doc.article.published_at.timestamp() for e in emb], dtype=np.float64)


def candidates(emb: Sequence[Embedded], settings: Settings) -> list[tuple[int, int, float]]:
    """Cross-language pairs (i < j indexes into ``emb``) in the window above the cosine."""
    if len(emb) < 2:
        return []
    order = np.argsort(_times(emb), kind="stable")
    t = _times(emb)[order]
    vecs = np.vstack([emb[k].vector for k in order]).astype(np.float32)
    langs = np.array([emb[k].doc.article.language for k in order])
    window = settings.dedup_window_days * 86400.0
    found: dict[tuple[int, int], float] = {}
    for r0 in range(0, len(order), BLOCK):
        r1 = min(r0 + BLOCK, len(order))
        c0 = int(np.searchsorted(t, t[r0] - window, side="left"))
        c1 = int(np.searchsorted(t, t[r1 - 1] + window, side="right"))
        sims = vecs[r0:r1] @ vecs[c0:c1].T
        dt = np.abs(t[r0:r1, None] - t[None, c0:c1])
        ok = (sims >= settings.translation_candidate_cosine) & (dt <= window)
        ok &= langs[r0:r1, None] != langs[None, c0:c1]
        for r in range(r1 - r0):
            cols = np.nonzero(ok[r])[0]
            if len(cols) > CANDIDATES_PER_DOC:
                cols = cols[np.argsort(-sims[r, cols], kind="stable")[:CANDIDATES_PER_DOC]]
            for c in cols:
                i, j = int(order[r0 + r]), int(order[c0 + c])
                found[(min(i, j), max(i, j))] = float(sims[r, c])
    return sorted((i, j, s) for (i, j), s in found.items())


def translation_edges(docs: Sequence[Prepared], encoder: Encoder,
                      settings: Settings) -> list[DedupEdge]:
    """Verified translation edges among long-enough articles of different languages."""
    eligible = sorted((d for d in docs if d.eligible), key=lambda d: d.id)
    if len({d.article.language for d in eligible}) < 2:
        return []
    emb = [e for e in embed(eligible, encoder) if e.sentences]
    edges: list[DedupEdge] = []
    for i, j, _cos in candidates(emb, settings):
        ev = verify(emb[i], emb[j], encoder, settings)
        if ev["accepted"]:
            # emb is sorted by id and i < j, so a < b as every edge requires
            edges.append(DedupEdge(emb[i].doc.id, emb[j].doc.id, "translation", ev["share"], ev))
    return edges
