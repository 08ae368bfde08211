"""The search analysis (pipeline/search/analysis.py): what documents and queries become."""

from __future__ import annotations

import pytest

from pipeline.search import analysis as A


def tokens(text: str, group: str) -> set[str]:
    return set(A.analyze(text, group).split())


@pytest.mark.parametrize("bare,with_clitic", [
    ("تحلية", "لتحلية"),  # the example
    ("تحلية", "بالتحلية"),
    ("تحلية", "وللتحلية"),
    ("مخطوطات", "المخطوطات"),
    ("مخطوطات", "وبمخطوطات"),
    ("مدرسة", "فالمدرسة"),
    ("ترام", "لترام"),
])
def test_arabic_words_meet_with_and_without_proclitics(bare, with_clitic):
    assert tokens(bare, "ar") & tokens(with_clitic, "ar")


def test_arabic_words_starting_with_a_clitic_letter_still_match_themselves():
    for word in ("كتاب", "فلسطين", "وزير", "بحر"):
        assert tokens(word, "ar") & tokens(word, "ar")
        assert tokens(word, "ar") & tokens("ال" + word, "ar")


def test_arabic_folding_stopwords_and_suffixes():
    assert tokens("مَخْطُوطَاتٌ", "ar") == tokens("مخطوطات", "ar")  # harakat
    assert tokens("المنارة", "ar") == tokens("المناره", "ar")  # taa marbuta
    assert tokens("\u200fمخطوطات\u200f", "ar") == tokens("مخطوطات", "ar")  # RTL marks
    assert A.analyze("في من على إلى", "ar").split() == []  # stopwords
    assert tokens("١٢٣", "ar") == {"123"}  # Arabic-Indic digits


def test_english_stems_and_stopwords():
    assert A.analyze("The lighthouses and the repainting", "en").split() == ["lighthous", "repaint"]
    assert tokens("manuscripts", "en") == tokens("manuscript", "en")
    assert tokens("RESTORED", "en") == tokens("restoring", "en")


def test_other_languages_are_folded_only():
    assert A.analyze("Les Éléphants 1,000", "other").split() == ["les", "éléphants", "1000"]
    assert A.group_of("fr") == A.group_of(None) == "other"


def test_query_words_are_distinct_and_bounded():
    assert A.query_words("Harbour harbour HARBOUR budget", 64) == ["harbour", "budget"]
    assert len(A.query_words(" ".join(f"w{i}" for i in range(100)), 64)) == 64
    assert A.query_terms(["لتحلية"], "ar") == A.analyze("لتحلية", "ar").split()


def test_pool_and_inline_analysis_agree():
    rows = [("ar" if i % 2 else "en", f"title {i}", "بالمكتبة الوطنية restores manuscripts " * 3) for i in range(A.POOL_MIN_DOCS)]
    pool = A.make_pool(2)
    try:
        assert A.analyze_many(rows, pool, chunk=1000) == A.analyze_many(rows)
    finally:
        if pool is not None:
            pool.shutdown()
