"""Search snippets: a window of the body around the first query word it contains."""

from __future__ import annotations

from pipeline.warehouse.queries import _snippet, prepare_query


def test_the_window_holds_the_matched_word_even_after_many_diacritics():
    # 200 fully vowelled words before the match: folding drops the diacritics, so a
    # position in the folded text would point far past the word in the original.
    vowelled = " ".join(["كَتَبَ"] * 200)
    body = f"{vowelled} وأعلنت الوزارة خطة لتحلية مياه البحر {vowelled}"
    snip = _snippet(body, prepare_query("تحلية"))
    assert "لتحلية" in snip and snip.startswith("…") and snip.endswith("…")


def test_query_order_decides_and_no_match_gives_the_start():
    body = "Alpha beta. " * 30 + "The Ministers met. " + "Gamma delta. " * 30 + "Rain fell."
    assert "Ministers" in _snippet(body, prepare_query("minister rain"))
    assert "Rain fell" in _snippet(body, prepare_query("rain minister"))
    assert _snippet("Short body.", ["absent"]) == "Short body."
    assert _snippet("x " * 200, ["absent"]).endswith("…")


def test_the_window_starts_at_the_matched_word_whatever_whitespace_comes_before():
    # runs of Unicode spaces, newlines and a leading space: the word count before the match
    # must land on the matched word itself in the original text
    lead = "\u00a0 one\u2003\u3000two\n\n three\x1cfour  " * 20
    body = lead + "Harbour works resumed"
    assert _snippet(body, prepare_query("harbour"), width=30) == "…" + body[body.index("Harbour") - 10:][:30] + "…"
    assert _snippet("  Harbour first", prepare_query("harbour"), width=30) == "  Harbour first…"
