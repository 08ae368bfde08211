"""Issue 4 items 5 and 7 against the dedup engineer's textnorm/anchors (tests only).

Matching text is kept apart from display text; these check each fold the issue names."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.config import Settings
from pipeline.extract.anchors import extract_anchors
from pipeline.extract.textnorm import normalize_for_matching as norm
from pipeline.models import Entry
from pipeline.normalize import build_article


def test_nfkc_and_invisible_controls():
    assert norm("ﬁnance") == "finance"  # NFKC ligature
    assert norm("ﻻ") == norm("لا")  # Arabic presentation form
    for ch in "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c\ufeff\u2060":
        assert norm(f"بغ{ch}داد") == "بغداد", hex(ord(ch))


def test_arabic_diacritics_tatweel_and_letter_variants():
    assert norm("مُحَمَّدٌ") == norm("محمد")
    assert norm("الحكــــومة") == norm("الحكومة")
    assert norm("أحمد") == norm("إحمد") == norm("آحمد") == norm("احمد")
    assert norm("مستشفى") == norm("مستشفي")  # alef maqsura / yaa
    assert norm("مدرسة") == norm("مدرسه")  # taa marbuta
    assert norm("فارسی") == norm("فارسي")  # Persian yeh


def test_digits_and_thousands_separators():
    assert norm("٢٠٢٥") == norm("۲۰۲۵") == "2025"
    assert norm("1,250,000") == norm("١٬٢٥٠٬٠٠٠") == norm("1250000") == "1250000"
    assert norm("٣٫٥") == "3.5"
    assert norm("1,25") != norm("125")  # not a thousands group: left alone


def test_display_text_is_not_folded():
    entry = Entry(feed_url="https://a.example/rss", guid="g", link="https://a.example/x", title="t",
                  content_html="<p>" + "قالت الحكومة إن ١٬٢٥٠ أسرة تلقت المساعدات في بغداد. " * 20 + "</p>")
    a = build_article(entry, None, datetime(2025, 8, 1, tzinfo=UTC), Settings())
    assert "١٬٢٥٠" in a.body_text and "إن" in a.body_text  # display keeps what the outlet wrote
    twin = Entry(**{**entry.__dict__, "content_html": entry.content_html.replace("١٬٢٥٠", "1,250").replace("إن", "ان")})
    assert build_article(twin, None, datetime(2025, 8, 1, tzinfo=UTC), Settings()).content_hash == a.content_hash


def test_anchors_have_kinds_values_and_positions():
    text = "On 5 March 2025 Donald Trump met Mohammed bin Salman; 1,250 people attended."
    anchors = extract_anchors(text, "en")
    kinds = {a.kind for a in anchors}
    assert {"number", "year", "date", "name"} <= kinds
    for a in anchors:
        assert 0 <= a.position < len(text)
    assert any(a.kind == "number" and a.value == "1250" for a in anchors)
    assert any(a.kind == "year" and a.value == "2025" for a in anchors)


def test_arabic_names_meet_latin_names_through_the_transliteration_key():
    en = {a.value for a in extract_anchors("President Trump met Mohammed in Baghdad.", "en") if a.kind == "name"}
    ar = {a.value for a in extract_anchors("التقى الرئيس ترامب محمد في بغداد", "ar") if a.kind == "name"}
    assert len(en & ar) >= 2
    digits = extract_anchors("في عام ٢٠٢٥ وصل ١٬٢٥٠ شخصا", "ar")
    assert {(a.kind, a.value) for a in digits} >= {("year", "2025"), ("number", "1250")}
