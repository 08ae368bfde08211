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
