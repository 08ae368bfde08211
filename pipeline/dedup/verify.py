"""Pair verification: the measures, thresholds and decision for one candidate pair.

The one rule the matcher, ``explain`` and the evaluation share (``verify``).  Both kinds
of copy are judged over the *region the two texts share, in order*
(``pipeline.dedup.align``), because real copies are partial (teasers, excerpts, abridged
translations, reprints with another intro or a trimmed end) and a share of the whole
shorter text undercounts them.

Same language (``near``): shingle Jaccard or containment above their thresholds (light
edits), or an in-order shingle region of at least ``near_min_aligned`` shingles covering
``near_region_coverage`` of the shorter region and ``near_min_share`` of the shorter text
(an edited republication in other chrome, not a quoted statement).

Across languages (``translation``), by the encoder that verified the pair
(``pipeline.dedup.index.pick_encoder``); with the primary encoder, only pairs whose
sketches share a matching sentence (``pipeline.dedup.sketch.sketch_gate``): sentences aligned as mutual best matches, in
order, with the gaps between them filled by weaker in-order matches
(``translation_fill_cosine``; loose translations), covering
``translation_region_coverage`` of the shorter region, and

* the primary encoder (USE-m) covers both languages: *alignment evidence*, the sum over
  aligned sentences of their cosine above the sentence threshold, reaches
  ``translation_min_evidence`` (a few close translations, or many looser ones; not a
  few paraphrases of one statement by different articles), half of it when every
  sentence of the shorter text aligned (a teaser), or anchors or attribution corroborate;
* a secondary encoder (e5, compressed cosines: unrelated Persian documents align 2-4
  sentences) covers both: 4 or more aligned sentences with ``SECONDARY_EVIDENCE``, or 2
  with corroboration, covering half the shorter text either way;
* no encoder covers both: 2 or more aligned sentences covering half the shorter text AND
  corroboration.

Both kinds then pass the *template guard*: aligned sentences whose numbers (and, in one
language written in Latin script, names) were substituted rather than kept, as in
wire-template stories that differ only in names, dates or figures, veto the pair.  A
translation that only attribution lifts must also keep the names (``name_substitutions``):
a credit names an outlet, not an article, and the outlet's other stories on one wire
template align the template's boilerplate with the translation as well as its original does.

Calibrated on the tuning half of ``corpora/republished`` and on ntrex-dev; figures in
``docs/dedup.md``.  Time plays no part: a copy is a copy whenever it appeared.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence

import numpy as np

from pipeline.config import Settings
from pipeline.dedup.align import Region, sentence_region, sequence_region
from pipeline.dedup.corroborate import anchor_overlap, attribution
from pipeline.dedup.encoder import Encoder, fill_threshold, sentence_threshold
from pipeline.dedup.index import IndexedDoc, pick_encoder, vectors_for
from pipeline.dedup.sketch import sketch_gate

NEAR_MIN_ALIGNED = 20  # shingles: an excerpt shorter than this is not evidence of a copy
NEAR_FULL_ALIGNED = 50  # shingles that always suffice; shorter texts need half their length
MIN_CHAIN = {"secondary": 4}  # e5 aligns unrelated Persian documents 2-4 sentences
CORROBORATED_SHARE = 0.5  # non-primary tiers: share of the shorter text aligned
SECONDARY_EVIDENCE = 0.2  # e5's cosines are compressed (its sentence threshold is 0.86)
LEXICAL_SENTENCE = 0.5  # token Jaccard for same-language sentence pairs (template guard)
NUMERIC = ("number", "year", "date")
_DIGITS = re.compile(r"\d+")


def near_measures(a: np.ndarray, b: np.ndarray) -> dict:
    """Jaccard and containment of two sorted unique shingle-hash arrays."""
    if not len(a) or not len(b):
        return {"jaccard": 0.0, "containment": 0.0, "shared_shingles": 0}
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return {"jaccard": round(inter / union, 4), "containment": round(inter / min(len(a), len(b)), 4),
            "shared_shingles": inter}


def near_min_aligned(len_a: int, len_b: int) -> int:
    return max(NEAR_MIN_ALIGNED, min(NEAR_FULL_ALIGNED, math.ceil(0.5 * min(len_a, len_b))))


def strong_anchors(ov: dict) -> bool:
    """Numbers/dates agreeing, optionally backed by names (calibrated on ntrex-dev)."""
    if ov["numeric_shared"] >= 3 and ov["numeric_jaccard"] >= 0.5:
        return True
    return (ov["numeric_shared"] >= 1 and ov["numeric_jaccard"] >= 0.5
            and ov["names_shared"] >= 2 and ov["names_coverage"] >= 0.5)


# ----------------------------------------------------------------------------- template guard


def _atoms(kind: str, value: str) -> set[tuple[str, str]]:
    """What a substitution is judged on: the significant digits of numbers, dates and years
    (so a date the parser read in one language and a bare day number in another agree,
    and a figure written with a scale word in one language and in digits in another),
    the value of names."""
    if kind == "name":
        return {("name", value)}
    # significant digits only: "160,000" and "160 ألف" (a scale word) are one figure
    return {("num", d.strip("0") or "0") for d in _DIGITS.findall(value)}


def _sentence_anchors(doc: IndexedDoc, kinds: tuple[str, ...]) -> list[set[tuple[str, str]]]:
    """Anchor atoms of ``kinds`` per sentence (by character offset); anchors outside
    every sentence (fragments the splitter dropped) are ignored."""
    spans = doc.spans or []
    out: list[set[tuple[str, str]]] = [set() for _ in spans]
    located = [(s, e, k) for k, (s, e) in enumerate(spans) if s >= 0]
    starts = [s for s, _, _ in located]
    for a in doc.anchors or []:
        if a.kind in kinds:
            x = bisect.bisect_right(starts, a.position) - 1
            if x >= 0 and a.position < located[x][1]:
                out[located[x][2]] |= _atoms(a.kind, a.value)
    return out


def template_conflicts(a: IndexedDoc, b: IndexedDoc, pairs: Sequence[tuple[int, int, float]],
                       names: bool) -> dict:
    """Aligned sentence pairs whose anchors were *substituted* (each side has one the
    other lacks): the mark of a template story, not of a copy, which keeps them."""
    kinds = NUMERIC + (("name",) if names else ())
    sa, sb = _sentence_anchors(a, kinds), _sentence_anchors(b, kinds)
    with_anchors = conflicts = 0
    sample = []
    for i, j, _c in pairs:
        if i >= len(sa) or j >= len(sb) or not (sa[i] or sb[j]):
            continue
        with_anchors += 1
        only_a, only_b = sa[i] - sb[j], sb[j] - sa[i]
        if only_a and only_b:
            conflicts += 1
            if len(sample) < 3:
                sample.append({"a": sorted(f"{k}:{v}" for k, v in only_a)[:3],
                               "b": sorted(f"{k}:{v}" for k, v in only_b)[:3]})
    template = conflicts >= 2 and conflicts * 3 >= with_anchors
    return {"pairs_with_anchors": with_anchors, "substituted": conflicts, "template": template,
            "sample": sample}


def _latin_script(doc: IndexedDoc) -> bool:
    """Mostly Latin letters (its name anchors are capitalised names, few per sentence; an
    Arabic-script text yields a key for every content word)."""
    text = " ".join((doc.sentences or [])[:20])
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) * 2 > len(letters)


def _kept(names: set[tuple[str, str]], other: set[tuple[str, str]]) -> bool:
    """Does a name of one sentence appear in the other (a final "s" of a possessive or
    plural aside: "Joko's" is skeleton "jks")?"""
    return any(n in other or (n[1].endswith("s") and (n[0], n[1][:-1]) in other) for n in names)


def name_substitutions(a: IndexedDoc, b: IndexedDoc, pairs: Sequence[tuple[int, int, float]]) -> dict:
    """Across languages, aligned sentence pairs that name someone on the judged side and
    keep none of those names on the other (``substituted``), against those that keep one.
    The judged side is the Latin-script text when only one is (names are transliterated
    into the other's script); with both in Latin script, the sentence naming fewer;
    with neither, names cannot be told from other words and nothing is judged."""
    la, lb = _latin_script(a), _latin_script(b)
    if not (la or lb):
        return {"judged": None, "kept": 0, "substituted": 0, "template": False}
    sa, sb = _sentence_anchors(a, ("name",)), _sentence_anchors(b, ("name",))
    kept = substituted = 0
    for i, j, _c in pairs:
        if i >= len(sa) or j >= len(sb):
            continue
        x, y = sa[i], sb[j]
        if la == lb and len(y) < len(x) or not la:
            x, y = y, x
        if x:
            if _kept(x, y):
                kept += 1
            else:
                substituted += 1
    return {"judged": "both" if la == lb else ("a" if la else "b"), "kept": kept,
            "substituted": substituted, "template": substituted >= 2 and substituted > kept}


def lexical_sentence_pairs(a: IndexedDoc, b: IndexedDoc) -> list[tuple[int, int, float]]:
    """Same-language sentence pairs: mutual best token Jaccard >= ``LEXICAL_SENTENCE``,
    in order (the template guard's pairs when there are no vectors)."""
    from pipeline.dedup.align import longest_increasing
    from pipeline.extract.textnorm import normalize_for_matching

    ta = [set(normalize_for_matching(s).split()) for s in a.sentences or []]
    tb = [set(normalize_for_matching(s).split()) for s in b.sentences or []]
    if not ta or not tb:
        return []
    sims = np.zeros((len(ta), len(tb)), dtype=np.float32)
    for i, x in enumerate(ta):
        for j, y in enumerate(tb):
            if x and y:
                inter = len(x & y)
                if inter:
                    sims[i, j] = inter / (len(x) + len(y) - inter)
    bj, bi = sims.argmax(axis=1), sims.argmax(axis=0)
    pairs = [(i, int(j), round(float(sims[i, j]), 4)) for i, j in enumerate(bj)
             if bi[j] == i and sims[i, j] >= LEXICAL_SENTENCE]
    return longest_increasing(pairs)


# ----------------------------------------------------------------------------- evidence


def aligned_evidence(a: IndexedDoc, b: IndexedDoc, region: Region) -> list[dict]:
    """Every aligned sentence pair with its character offsets in both bodies, in text
    order; ``filled`` marks the weaker pairs that fill the gaps between strong ones."""
    sa, sb = a.spans or [], b.spans or []
    out = []
    marked = [(m, False) for m in region.chain] + [(m, True) for m in region.filled]
    for (i, j, c), filled in sorted(marked):
        out.append({"a": i, "b": j, "cosine": c, "filled": filled,
                    "a_span": list(sa[i]) if i < len(sa) else None,
                    "b_span": list(sb[j]) if j < len(sb) else None})
    return out


# ----------------------------------------------------------------------------- decisions


def verify_near(a: IndexedDoc, b: IndexedDoc, settings: Settings, full: bool = True) -> dict:
    """Same-language measures and decision; ``full=False`` (the matcher) stops once no
    rule can accept."""
    ov = near_measures(a.shingles, b.shingles)
    by_set = ov["jaccard"] >= settings.near_jaccard or ov["containment"] >= settings.near_containment
    seq_a = a.shingle_seq if a.shingle_seq is not None else a.shingles
    seq_b = b.shingle_seq if b.shingle_seq is not None else b.shingles
    region = sequence_region(seq_a, seq_b)
    need = near_min_aligned(len(seq_a), len(seq_b))
    by_region = (region.size >= need and region.coverage >= settings.near_region_coverage
                 and region.share >= settings.near_min_share)
    out = {"kind": "near", **ov, "region": region.summary(), "min_aligned": need,
           "jaccard_threshold": settings.near_jaccard,
           "containment_threshold": settings.near_containment,
           "region_coverage_threshold": settings.near_region_coverage,
           "min_share": settings.near_min_share,
           "same_source": a.source_domain == b.source_domain}
    if not (by_set or by_region):
        reason = ("too few shingles in order" if region.size < need
                  else "shared region too sparse (same event, not a copy)"
                  if region.coverage < settings.near_region_coverage
                  else "shared region too small a part of either text (a quoted passage)")
        return {**out, "accepted": False, "reason": reason, "score": 0.0}
    # names only in Latin script: elsewhere every content word is a name key (``_latin_script``)
    guard = template_conflicts(a, b, lexical_sentence_pairs(a, b), names=_latin_script(a) and _latin_script(b))
    out["template_guard"] = guard
    score = max(ov["jaccard"], ov["containment"], region.coverage if by_region else 0.0)
    if guard["template"]:
        return {**out, "accepted": False, "score": score,
                "reason": "same wording, substituted names/numbers (template story)"}
    reason = "shingle overlap above threshold" if by_set else "in-order shared region (edited copy)"
    return {**out, "accepted": True, "score": round(score, 4), "reason": reason}


def decide(region: Region, tier: str, strong: bool, attributed: bool, threshold: float,
           settings: Settings) -> tuple[bool, str]:
    """The cross-language acceptance rule in the module docstring: (accepted, reason)."""
    if region.size < 2:
        return False, "too few aligned sentences"
    if region.coverage < settings.translation_region_coverage:
        return False, "aligned sentences too sparse in the shared region"
    corroborated = strong or attributed
    why = "anchors" if strong else "attribution"
    # articles on one event share its numbers: corroboration backs an alignment that
    # covers a fair share of the shorter text, it does not replace one
    backed = corroborated and region.share >= CORROBORATED_SHARE
    if tier == "uncovered":
        if backed:
            return True, f"aligned in order (no encoder covers both), corroborated by {why}"
        return False, "no encoder covers both languages and nothing corroborates enough alignment"
    if tier == "secondary":
        if (region.size >= MIN_CHAIN["secondary"] and region.share >= CORROBORATED_SHARE
                and region.evidence(threshold) >= SECONDARY_EVIDENCE):
            return True, "aligned in order (secondary encoder)"
        if backed:
            return True, f"aligned in order (secondary encoder), corroborated by {why}"
        return False, "too little alignment for the secondary encoder"
    evidence = region.evidence(threshold)
    if evidence >= settings.translation_min_evidence:
        return True, "aligned in order (primary encoder)"
    if region.share >= 1.0 and evidence >= settings.translation_min_evidence / 2:
        return True, "the whole shorter text aligned in order (primary encoder)"
    if corroborated:
        return True, f"aligned in order (primary encoder), corroborated by {why}"
    return False, ("too little alignment evidence: the aligned sentences paraphrase rather than "
                   "translate, or are too few")


def verify_translation(a: IndexedDoc, b: IndexedDoc, chain: Sequence[Encoder], settings: Settings,
                       full: bool = True) -> dict:
    """Cross-language measures and decision; ``full=False`` stops once no rule can accept."""
    enc, covered = pick_encoder(chain, a.language, b.language)
    tier = ("primary" if enc is chain[0] else "secondary") if covered else "uncovered"
    thr = sentence_threshold(enc, settings.translation_sentence_cosine)
    # primary: whole sentences are encoded only for pairs whose sketches align
    gate = sketch_gate(a, b, thr) if tier == "primary" else None
    if gate is not None and not gate["passed"]:
        region = Region((), len(a.sentences or []), len(b.sentences or []))
        va, vb = a.docvec, b.docvec
    else:
        ma, va = vectors_for(a, enc)
        mb, vb = vectors_for(b, enc)
        region = sentence_region(ma, mb, thr, fill_threshold(enc, settings.translation_fill_cosine))
    out = {"kind": "translation", "encoder": enc.name, "encoder_tier": tier,
           "encoder_covers_languages": covered, "sentence_cosine_threshold": thr,
           "region_coverage_threshold": settings.translation_region_coverage,
           "min_evidence": settings.translation_min_evidence,
           "evidence": region.evidence(thr),
           "doc_cosine": round(float(va @ vb), 4) if va is not None and vb is not None and len(va) and len(vb) else 0.0,
           "region": region.summary(), "languages": [a.language, b.language], "sketch_gate": gate}
    if not full and (region.size < 2 or region.coverage < settings.translation_region_coverage):
        return {**out, "accepted": False, "score": 0.0, "reason": "too few aligned sentences"}
    ov = anchor_overlap(a.anchors or [], b.anchors or [])
    attr = attribution(a, b)
    strong = strong_anchors(ov)
    accepted, reason = decide(region, tier, strong, attr["names_other_outlet"], thr, settings)
    if gate is not None and not gate["passed"]:
        reason = "no sentence of the two sketches aligns (not verified in full)"
    guard = template_conflicts(a, b, region.chain + region.filled, names=False)
    if accepted and guard["template"]:
        accepted, reason = False, "aligned, but numbers substituted (template story)"
    names = None
    if accepted and attr["names_other_outlet"] and not decide(region, tier, strong, False, thr, settings)[0]:
        # only the credit lifts the pair: it names an outlet, so the content must name
        # the same people as well (another story of that outlet's wire template does not)
        names = name_substitutions(a, b, region.chain + region.filled)
        if names["template"]:
            accepted, reason = False, "aligned and the outlet credited, but names substituted (another story)"
    return {**out, "accepted": accepted, "reason": reason, "score": region.coverage,
            "anchors": ov, "strong_anchors": strong, "attribution": attr, "template_guard": guard,
            "name_guard": names, "aligned_pairs": aligned_evidence(a, b, region)}


def verify(a: IndexedDoc, b: IndexedDoc, chain: Sequence[Encoder], settings: Settings,
           full: bool = True) -> dict:
    """The decision for one candidate pair, same language or not (the only entry point)."""
    if a.language == b.language:
        return verify_near(a, b, settings, full)
    return verify_translation(a, b, chain, settings, full)


__all__ = ["decide", "name_substitutions", "near_measures", "strong_anchors", "template_conflicts", "verify",
           "verify_near", "verify_translation"]
