"""Encode only what each step needs: a per-article *sketch* at index time, whole sentence
vectors only for the pairs that need them (issue 12, point 8).

At index time the primary encoder (USE-m) encodes, per eligible article, its title and a
*sketch*: the lead (``SKETCH_LEAD`` sentences) plus evenly spaced sentences of the rest,
``SKETCH_MAX`` in all (``sketch_rows``; a text that short is encoded whole).  The sketch
gives the document vector (``docvec``, candidate search and the related stage) and the
sketch vectors (``sketchvec``).  Evenly spaced rows keep a mid-article excerpt's vectors
near its source, and a reprint under another headline still shares the body.

A cross-language pair verified by the primary encoder first passes the *sketch gate*
(``sketch_gate``): at least one sentence of one sketch must match a sentence of the other
at the sentence threshold.  Only the documents of pairs that pass have their whole
sentences encoded (``complete``), in one batched call per matched batch, reusing the
sketch rows; the lake persists them (``pipeline.lake.dedup_zone``), so they are never
encoded twice.  The gate reads the sketches only, never the whole vectors, so the
decision does not depend on what happens to be cached: ``explain`` replays it exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.indexed import IndexedDoc

SKETCH_LEAD = 3  # the lead: a teaser, a lead-only translation
SKETCH_MAX = 12  # sentences per sketch (a text this short is encoded whole)


def sketch_rows(n: int, lead: int = SKETCH_LEAD, cap: int = SKETCH_MAX) -> list[int]:
    """Sentence indices of the sketch of an ``n``-sentence text: the lead, then evenly
    spaced rows of the rest (the last sentence included)."""
    if n <= cap:
        return list(range(n))
    rest = cap - lead
    picks = np.linspace(lead, n - 1, rest).round().astype(int).tolist()
    return sorted(set(range(lead)) | set(picks))


def sketch_gate(a: IndexedDoc, b: IndexedDoc, threshold: float) -> dict:
    """Whether any sketch sentence of ``a`` matches one of ``b`` at ``threshold``
    (cosine of the primary encoder's sketch vectors).  A pair without sketches (indexed
    before sketches existed) passes."""
    sa, sb = a.sketchvec, b.sketchvec
    if sa is None or sb is None:
        return {"passed": True, "max_cosine": None, "threshold": threshold}
    if not len(sa) or not len(sb):
        return {"passed": False, "max_cosine": 0.0, "threshold": threshold}
    best = float((sa @ sb.T).max())
    return {"passed": best >= threshold, "max_cosine": round(best, 4), "threshold": threshold}


def needs_full(doc: IndexedDoc, encoder_name: str) -> bool:
    """True when ``doc``'s whole sentence vectors of ``encoder_name`` are not yet known."""
    return doc.encoder == encoder_name and doc.sentvec is None and bool(doc.sentences)


def complete(docs: Sequence[IndexedDoc], encoder) -> int:
    """Fill the whole ``sentvec`` of every doc that has only its sketch, in ONE batched
    call; sketch rows are reused, not encoded again.  Marks them ``sentvec_fresh`` (the
    stage persists them).  Returns how many sentences were encoded."""
    todo = list({id(d): d for d in docs if needs_full(d, encoder.name)}.values())
    plan = []
    for d in todo:
        known = dict(zip(d.sketch_rows or [], d.sketchvec if d.sketchvec is not None else [], strict=False))
        plan.append((d, known, [k for k in range(len(d.sentences)) if k not in known]))
    flat = [d.sentences[k] for d, _, miss in plan for k in miss]
    vecs = encoder.encode(flat) if flat else np.zeros((0, encoder.dim), dtype=np.float32)
    vecs = np.asarray(vecs, dtype=np.float16).astype(np.float32)  # as stored: replays decide alike
    pos = 0
    for d, known, miss in plan:
        m = np.zeros((len(d.sentences), encoder.dim), dtype=np.float32)
        for k, v in known.items():
            m[k] = v
        for k in miss:
            m[k] = vecs[pos]
            pos += 1
        d.sentvec = m
        d.sentvec_fresh = True
    return len(flat)
