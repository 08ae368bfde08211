"""Pair verification: the measures, thresholds and decision for one candidate pair.

Shared by the incremental matcher, ``explain_pair`` and the evaluation, so all three
judge a pair by the same rule.  Translation decision (``decide``), per the encoder that
verified the pair (``pipeline.dedup.encoder.pick_encoder``):

* the primary encoder (USE-m) covers both languages: share >= ``translation_min_share``,
  or share >= ``WEAK_SHARE`` with strong anchors or attribution;
* a secondary encoder (e5) covers both: share (at its own, higher sentence cosine) >=
  ``translation_min_share`` AND corroboration (strong anchors, attribution, or
  ``names_coverage`` >= ``E5_NAMES``) — e5 aligns unrelated Persian documents at up to
  0.8, so alignment alone is never enough there;
* no encoder covers both: share >= ``translation_min_share`` AND strong anchors or
  attribution.

Calibration and figures: ``docs/dedup.md`` and ``bench/dedup_encoders.py``.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from pipeline.config import Settings
from pipeline.dedup.corroborate import anchor_overlap, attribution
from pipeline.dedup.encoder import Encoder, sentence_threshold
from pipeline.dedup.index import IndexedDoc, pick_encoder, vectors_for

WEAK_SHARE = 0.35
MIN_CHAIN = 2
EVIDENCE_PAIRS = 5
EVIDENCE_CHARS = 160
E5_NAMES = 0.5
SAMPLE_SHARED = 5


def near_measures(a: np.ndarray, b: np.ndarray) -> dict:
    """Jaccard and containment of two sorted unique shingle-hash arrays."""
    if not len(a) or not len(b):
        return {"jaccard": 0.0, "containment": 0.0, "shared_shingles": 0}
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return {"jaccard": round(inter / union, 4), "containment": round(inter / min(len(a), len(b)), 4),
            "shared_shingles": inter}


def longest_increasing(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Longest chain with strictly increasing i and j (pairs are sorted by i, i unique)."""
    tails: list[int] = []
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


def align(ma: np.ndarray, mb: np.ndarray, threshold: float) -> tuple[float, list[tuple[int, int, float]]]:
    """(share, monotonic chain of mutual best sentence matches) for two sentence matrices."""
    if not len(ma) or not len(mb):
        return 0.0, []
    sims = ma @ mb.T
    best_j = sims.argmax(axis=1)
    best_i = sims.argmax(axis=0)
    pairs = [(i, int(j), float(sims[i, j])) for i, j in enumerate(best_j)
             if best_i[j] == i and sims[i, j] >= threshold]
    chain = longest_increasing(pairs)
    return round(len(chain) / min(len(ma), len(mb)), 4), chain


def strong_anchors(ov: dict) -> bool:
    """Numbers/dates agreeing, optionally backed by names (calibrated on ntrex-dev)."""
    if ov["numeric_shared"] >= 3 and ov["numeric_jaccard"] >= 0.5:
        return True
    return (ov["numeric_shared"] >= 1 and ov["numeric_jaccard"] >= 0.5
            and ov["names_shared"] >= 2 and ov["names_coverage"] >= 0.5)


def decide(share: float, chain_len: int, tier: str, ov: dict, strong: bool, attributed: bool,
           settings: Settings) -> tuple[bool, str]:
    """The acceptance rule in the module docstring; returns (accepted, reason)."""
    if chain_len < MIN_CHAIN:
        return False, "too few aligned sentences"
    if share < (WEAK_SHARE if tier == "primary" else settings.translation_min_share):
        return False, "alignment share too low"
    if tier == "primary":
        if share >= settings.translation_min_share:
            return True, "aligned"
        if strong or attributed:
            return True, "partly aligned, corroborated by " + ("anchors" if strong else "attribution")
        return False, "alignment share too low"
    if strong or attributed:
        return True, f"aligned ({tier} encoder) and corroborated by " + ("anchors" if strong else "attribution")
    if tier == "secondary" and ov["names_shared"] >= 2 and ov["names_coverage"] >= E5_NAMES:
        return True, "aligned (secondary encoder) and corroborated by names"
    return False, f"aligned with the {tier} encoder but no anchor/attribution corroboration"


def verify_pair(a: IndexedDoc, b: IndexedDoc, chain: Sequence[Encoder], settings: Settings,
                full: bool = True) -> dict:
    """Every measure for one cross-language pair, its thresholds and the decision.
    ``full=False`` (the matcher) stops after alignment when no rule could accept."""
    enc, covered = pick_encoder(chain, a.language, b.language)
    tier = ("primary" if enc is chain[0] else "secondary") if covered else "uncovered"
    ma, va = vectors_for(a, enc)
    mb, vb = vectors_for(b, enc)
    thr = sentence_threshold(enc, settings.translation_sentence_cosine)
    share, pairs = align(ma, mb, thr)
    floor = WEAK_SHARE if tier == "primary" else settings.translation_min_share
    if not full and (len(pairs) < MIN_CHAIN or share < floor):
        return {"accepted": False, "share": share}
    ov = anchor_overlap(a.anchors, b.anchors)
    attr = attribution(a, b)
    strong = strong_anchors(ov)
    accepted, reason = decide(share, len(pairs), tier, ov, strong, attr["names_other_outlet"], settings)
    top = sorted(pairs, key=lambda p: (-p[2], p[0]))[:EVIDENCE_PAIRS]
    sa, sb = a.sentences or [], b.sentences or []
    return {
        "accepted": accepted,
        "reason": reason,
        "share": share,
        "min_share": settings.translation_min_share,
        "weak_share": WEAK_SHARE,
        "sentence_cosine_threshold": thr,
        "doc_cosine": round(float(va @ vb), 4) if len(va) and len(vb) else 0.0,
        "candidate_cosine_threshold": settings.translation_candidate_cosine,
        "aligned": len(pairs),
        "sentences_a": len(sa),
        "sentences_b": len(sb),
        "languages": [a.language, b.language],
        "encoder": enc.name,
        "encoder_tier": tier,
        "encoder_covers_languages": covered,
        "aligned_pairs": [{"a": sa[i][:EVIDENCE_CHARS], "b": sb[j][:EVIDENCE_CHARS], "cosine": round(c, 4)}
                          for i, j, c in sorted(top)],
        "anchors": ov,
        "strong_anchors": strong,
        "attribution": attr,
    }
