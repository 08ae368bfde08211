"""The common-term shortcut of the search engine (``pipeline.search.query.plan``): a query that mixes rare
terms with terms most documents hold is answered from the rare terms' documents first.  It
is a shortcut, never a change of meaning: every ranking must equal the plain union's, also
when the rare terms' documents run out (the fallback) and under every filter."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

import pipeline.search.index as ix
import pipeline.search.query as sq
from pipeline.search.analysis import analyze

T0 = datetime(2026, 1, 1, tzinfo=UTC)
QUERIES = [["common", "r3"], ["r1", "r7", "often"], ["scarce", "common"], ["scarce", "often", "common"],
           ["common", "often"], ["r12"], ["common", "r5", "r6", "r30"], ["often", "r2"]]


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """600 English and French documents of varied length: ``common`` in about 60 % of them,
    ``often`` in 30 %, ``r0``..``r39`` in 1-3 % each, ``scarce`` in three."""
    rng = random.Random(7)
    path = tmp_path_factory.mktemp("idx") / "search"
    rows, texts = [], []
    for i in range(600):
        words = [f"w{rng.randrange(400)}" for _ in range(rng.randrange(15, 200))]
        if rng.random() < 0.6:
            words += ["common"] * rng.randrange(1, 6)
        if rng.random() < 0.3:
            words += ["often"] * rng.randrange(1, 4)
        words += [f"r{rng.randrange(40)}" for _ in range(rng.randrange(0, 3))]
        if i in (5, 300, 451):
            words.append("scarce")
        rng.shuffle(words)
        lang = "en" if i % 5 else "fr"
        rows.append({"article_id": f"a{i:04d}", "story_id": f"s{i // 3}" if i % 4 == 0 else None,
                     "language": lang, "source_domain": ("north.example", "south.example")[i % 2],
                     "published_s": int((T0 + timedelta(hours=7 * i)).timestamp())})
        texts.append(analyze(" ".join(words), "en" if lang == "en" else "other"))
    with ix.open_writer(path) as w:
        w.upsert(rows, texts, [b""] * len(rows))
        w.commit({"b0"})
    ix.forget_readers()
    return ix.reader(path)


VARIANTS = [{"limit": 5}, {"limit": 40}, {"limit": 400}, {"limit": 6, "collapse": True},
            {"limit": 7, "language": "en"}, {"limit": 7, "language": "fr"}, {"limit": 9, "outlet": "south.example"},
            {"limit": 8, "since": T0 + timedelta(days=100)}, {"limit": 8, "until": T0 + timedelta(days=20)},
            {"limit": 8, "since": T0 + timedelta(days=50), "until": T0 + timedelta(days=80), "collapse": True}]


def _answers(reader) -> dict:
    return {(i, j): [(h.article_id, h.score) for h in reader.search(q, **kw)]
            for i, q in enumerate(QUERIES) for j, kw in enumerate(VARIANTS)}


def test_the_shortcut_gives_the_plain_union_ranking_and_falls_back_when_rare_hits_run_out(reader, monkeypatch):
    monkeypatch.setattr(sq, "COMMON_TERM_SHARE", 2.0)  # no term is common: the plain union
    want = _answers(reader)
    monkeypatch.undo()
    took = []
    top = ix.top

    def spy(searcher, query, limit, collapse, when=None, floor=None):
        got = top(searcher, query, limit, collapse, when, floor)
        if floor is not None:
            took.append("shortcut" if got is not None else "fallback")
        return got

    monkeypatch.setattr(ix, "top", spy)
    got = _answers(reader)
    assert {"shortcut", "fallback"} <= set(took)
    for key, hits in want.items():
        assert [a for a, _ in got[key]] == [a for a, _ in hits], (QUERIES[key[0]], VARIANTS[key[1]])
        assert [s for _, s in got[key]] == pytest.approx([s for _, s in hits], rel=1e-5), key
    assert any(len(h) > 3 for h in want.values())
    # "scarce" is in three documents: the rest of a top 40 comes from the common terms alone
    assert len(got[(2, 1)]) == 40


def test_the_floor_bounds_every_document_that_holds_only_common_terms(reader):
    """What the shortcut rests on: (K1 + 1) x idf read from the engine bounds each common
    term's score, so no document without a rare term reaches the floor."""
    from tantivy import Query

    searcher = reader.index.searcher()
    n, k1_plus_1 = sq._bm25_stats(searcher, Query.term_query(reader.schema, "t_en", "r3", index_option="freq"))
    assert (n, k1_plus_1) == (600.0, pytest.approx(2.2))
    terms = [("t_en", t, searcher.doc_freq("t_en", t)) for t in ("common", "often", "r3")]
    union, fast, floor = sq.plan(reader.schema, searcher, terms)
    assert fast is not None and floor > 0
    only_common = reader.search(["common", "often"], language="en", limit=600)
    assert only_common and max(h.score for h in only_common) < floor
