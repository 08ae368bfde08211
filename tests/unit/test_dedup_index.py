"""The persisted matching material and the index-based candidate search."""

from __future__ import annotations

import numpy as np

from pipeline.config import Settings
from pipeline.dedup.index import band_shape, index_articles, minhash
from pipeline.dedup.match import _posting_pairs, match
from tests.unit.test_dedup_exact_near import STORY, art

S = Settings()


class _Null:
    name, dim, languages = "null", 4, frozenset()

    def encode(self, texts):
        return np.zeros((len(texts), 4), dtype=np.float32)


def test_band_shape_is_datasketchs():
    from datasketch.lsh import _optimal_param

    for t in (0.3, 0.5, 0.8):
        assert band_shape(t, 128) == _optimal_param(t, 128, 0.5, 0.5)


def test_minhash_estimates_jaccard():
    a = np.arange(0, 1000, dtype=np.uint32)
    b = np.arange(500, 1500, dtype=np.uint32)  # Jaccard 1/3
    est = float(np.mean(minhash(a) == minhash(b)))
    assert abs(est - 1 / 3) < 0.12


def test_posting_pairs_need_a_new_end_and_skip_long_postings():
    keys = [np.array([1, 2], np.uint64), np.array([2, 3], np.uint64), np.array([3], np.uint64)]
    assert _posting_pairs(keys, ["en"] * 3, 1, None) == {(0, 1)}  # (1, 2) has no new end
    assert _posting_pairs(keys, ["en", "en", "fr"], 3, None) == {(0, 1)}  # groups apart
    assert _posting_pairs(keys, ["en"] * 3, 3, 1) == set()  # every posting too long


def test_excerpt_found_against_known_index_only():
    full = art("full", STORY)
    teaser = art("teaser", " ".join(STORY.split()[:60]), hours=2)
    known = index_articles([full], _Null(), min_text_chars=S.min_text_chars, lsh_threshold=0.5, encode=False)
    new = index_articles([teaser], _Null(), min_text_chars=S.min_text_chars, lsh_threshold=0.5, encode=False)
    (edge,) = match(new, known, [_Null()], S)
    assert (edge.a, edge.b, edge.kind) == ("full", "teaser", "near")
    assert edge.evidence["containment"] >= S.near_containment > edge.evidence["jaccard"]
    assert match([], known, [_Null()], S) == []  # nothing new, nothing compared
