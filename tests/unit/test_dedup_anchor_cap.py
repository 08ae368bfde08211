"""Anchor-proposed pairs that only the slow secondary encoder (e5) can verify are capped per
document in a language the primary encoder does not cover: the best-anchored mates of that
document.  Counted from the covered end as well, every English article sharing anchors with
a Persian one kept its pair, and one Persian article drew a hundred whole-document e5
verifications."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np

from pipeline.dedup.match import SECONDARY_ANCHORED, _capped_anchor_pairs
from pipeline.indexed import IndexedDoc

PRIMARY = SimpleNamespace(name="use-m", languages=frozenset({"en", "ar"}))
SECONDARY = SimpleNamespace(name="e5", languages=frozenset({"en", "ar", "fa", "ckb"}))


def _doc(i: int, lang: str) -> IndexedDoc:
    return IndexedDoc(id=f"{lang}-{i:02d}", language=lang, published_at=datetime(2026, 1, 1, tzinfo=UTC),
                      eligible=True, norm_hash=str(i), canonical_url="", url="", guid="", source_domain="",
                      translator=None, original_outlet=None, original_domain=None, original_url=None,
                      shingles=np.zeros(0, np.uint32), bands=np.zeros(0, np.uint64), anchors=[])


def test_slow_pairs_are_kept_for_the_best_anchored_mates_of_the_uncovered_end():
    docs = [_doc(i, "en") for i in range(10)] + [_doc(10, "fa"), _doc(11, "fa"), _doc(12, "ar"), _doc(13, "ckb")]
    anchored = {}
    for e in range(10):
        anchored[(e, 10)] = 3 + e  # en-09 shares the most with fa-10
        anchored[(e, 11)] = 12 - e  # en-00 shares the most with fa-11
    anchored[(0, 12)] = 4  # en-ar: the primary encoder verifies it, never capped
    anchored[(1, 12)] = 2  # below ANCHOR_MIN_SHARED
    anchored[(10, 13)] = 5  # fa-ckb: neither end covered, capped from either end
    kept = set(_capped_anchor_pairs(docs, anchored, [PRIMARY, SECONDARY]))
    assert (0, 12) in kept and (1, 12) not in kept
    fa10 = {p for p in kept if 10 in p and 13 not in p}
    fa11 = {p for p in kept if 11 in p}
    assert len(fa10) == len(fa11) == SECONDARY_ANCHORED == 3
    assert fa10 == {(9, 10), (8, 10), (7, 10)} and fa11 == {(0, 11), (1, 11), (2, 11)}
    assert (10, 13) in kept  # the only mate of ckb-13
    assert len(kept) == 1 + 3 + 3 + 1
