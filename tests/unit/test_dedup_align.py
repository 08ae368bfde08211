"""The in-order region measure (``pipeline.dedup.align``) on hand-made similarity
matrices: what a chain is, and what gap filling may and may not add."""

from __future__ import annotations

import numpy as np

from pipeline.dedup.align import fill_gaps, sentence_region, sequence_region


def _unit_rows(sims: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row vectors whose dot products are exactly ``sims`` (a: sims itself, b: identity)."""
    return sims.astype(np.float32), np.eye(sims.shape[1], dtype=np.float32)


def test_chain_keeps_mutual_best_in_order():
    sims = np.array([[0.9, 0.1, 0.1], [0.1, 0.2, 0.8], [0.1, 0.7, 0.1]])
    r = sentence_region(*_unit_rows(sims), threshold=0.6)
    # (1,2) and (2,1) cross: only one of them stays in an increasing chain
    assert r.size == 2 and r.chain[0][:2] == (0, 0)


def test_gap_between_strong_matches_is_filled_but_not_counted_as_evidence():
    # a loose translation: strong first and last sentences, looser ones between, in order
    sims = np.array([[0.85, 0.2, 0.3, 0.3],
                     [0.2, 0.50, 0.1, 0.1],
                     [0.2, 0.0, 0.52, 0.2],
                     [0.3, 0.0, 0.3, 0.77]])
    plain = sentence_region(*_unit_rows(sims), threshold=0.6)
    filled = sentence_region(*_unit_rows(sims), threshold=0.6, fill=0.45)
    assert plain.size == 2 and plain.coverage == 0.5 and not plain.filled
    assert [m[:2] for m in filled.filled] == [(1, 1), (2, 2)]
    assert filled.coverage == 1.0
    # strong matches alone carry the share and the evidence
    assert filled.share == plain.share == 0.5
    assert filled.evidence(0.6) == plain.evidence(0.6)
    assert filled.summary()["filled"] == 2


def test_no_filling_outside_the_chain_or_below_the_fill_cosine():
    sims = np.array([[0.5, 0.1, 0.1], [0.1, 0.9, 0.1], [0.1, 0.1, 0.5]])
    r = sentence_region(*_unit_rows(sims), threshold=0.6, fill=0.45)
    assert r.size == 1 and r.filled == ()  # weak pairs before and after one strong match
    sims = np.array([[0.9, 0.1, 0.1], [0.1, 0.40, 0.1], [0.1, 0.1, 0.9]])
    r = sentence_region(*_unit_rows(sims), threshold=0.6, fill=0.45)
    assert r.size == 2 and r.filled == () and r.coverage == round(2 / 3, 4)


def test_fill_keeps_order_inside_a_gap():
    sims = np.zeros((4, 4))
    sims[0, 0] = sims[3, 3] = 0.9
    sims[1, 2] = sims[2, 1] = 0.5  # two weak matches that cross: one survives
    assert len(fill_gaps(sims, ((0, 0, 0.9), (3, 3, 0.9)), 0.45)) == 1


def test_sequence_region_of_an_excerpt():
    a = np.arange(100, dtype=np.uint32)
    b = np.concatenate([np.arange(1000, 1010), a[40:70], np.arange(2000, 2010)]).astype(np.uint32)
    r = sequence_region(a, b)
    assert r.size == 30 and r.coverage == 1.0 and r.span_a == (40, 70) and r.span_b == (10, 40)
