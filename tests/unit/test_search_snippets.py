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


def _reference(body: str, terms: list[str], width: int = 160) -> str:
    """The snippet rule folding every word first (what ``_snippet`` did before it folded
    in growing runs)."""
    from pipeline.warehouse.searchtext import fold

    words = body.split()
    joined = "\x00".join(fold(w) for w in words)
    for term in terms if words else ():
        at = joined.find(term)
        if at >= 0:
            pos = len(body) - len(body.split(None, joined.count("\x00", 0, at))[-1])
            start = max(0, pos - width // 3)
            return ("…" if start else "") + body[start : start + width].replace("\n", " ") + "…"
    return body[:width].replace("\n", " ") + ("…" if len(body) > width else "")


def test_folding_in_runs_finds_what_folding_the_whole_body_finds():
    """Words are folded 32, 64, 128 ... at a time, only until a query word is found: a word
    in any run, a first query word found only late or not at all, folding that changes a
    word (case, harakat, soft hyphens, digits) must all give the whole-body answer."""
    import random

    rng = random.Random(3)
    vocab = ["Harbour", "harbour", "WATER", "mيناء", "ميناءٌ", "مِيناء", "ci\u00adty", "city", "٤٢٠", "420",
             "desalination", "plant", "\u200fوزير\u200f", "وزير", "budget", "x"] + [f"w{i}" for i in range(60)]
    queries = [["harbour"], ["zzz", "city"], ["ميناء", "420"], ["water", "وزير"], ["zzz"], ["budget", "plant"]]
    checked = 0
    for n in (0, 1, 31, 32, 33, 95, 96, 97, 250, 700, 2000):
        for _ in range(12):
            words = [rng.choice(vocab[14:]) for _ in range(n)]
            for _ in range(rng.randrange(0, 3)):
                if words:
                    words[min(n - 1, int(rng.expovariate(1 / max(1, n / 3))))] = rng.choice(vocab)
            body = "".join(w + rng.choice([" ", "  ", "\n", "\u00a0"]) for w in words)
            for q in queries:
                terms = prepare_query(" ".join(q))
                assert _snippet(body, terms) == _reference(body, terms), (n, q)
                checked += 1
    assert checked == 11 * 12 * len(queries)
