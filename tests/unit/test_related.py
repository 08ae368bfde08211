"""Related scoring and the incremental refresh, on the labelled dev set (real encoder,
real lake folder, real DuckDB)."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.config import Settings
from pipeline.related.evaluate import load_devset, write_labelled
from pipeline.related.index import VectorIndex
from pipeline.related.scoring import Doc, Scored, TextModel, score_pair, select

DEV = load_devset()
ROWS = DEV["articles"]
STORY = {r["id"]: r["story"] for r in ROWS}
TOPIC = {r["id"]: r["topic"] for r in ROWS}


def _doc(aid, story, langs=("en",), lang="en", days=0.0, terms=None, anchors=()):
    return Doc(aid, story, lang, langs, days, frozenset(anchors), terms or {"water": 1.0})


def test_scores_are_symmetric_and_cross_language_is_not_penalised_for_words():
    s = Settings.load()
    a = _doc("a", "s1", terms={"plant": 1.0, "water": 1.5}, anchors={"number:340"}, days=1)
    b = _doc("b", "s2", terms={"plant": 1.0, "port": 1.0}, anchors={"number:340", "name:vlt"}, days=3)
    text = TextModel({"plant": 2, "water": 1, "port": 1}, 3)
    ab, ba = score_pair(a, b, 0.5, text, s), score_pair(b, a, 0.5, text, s)
    assert (ab.score, ab.text, ab.anchors, ab.recency) == (ba.score, ba.text, ba.anchors, ba.recency)
    ar = _doc("c", "s3", lang="ar", langs=("ar",), terms={"محطة": 1.0}, anchors={"number:340"}, days=1)
    cross = score_pair(a, ar, 0.5, text, s)
    assert cross.text == 0 and cross.score > 0.5 * s.related_weight_embedding


def test_select_never_keeps_the_same_story_and_one_per_story():
    s = Settings.load(related_k=3, related_per_language=1)
    docs = {"t": _doc("t", "S", langs=("en", "ar")), "x": _doc("x", "S"), "y1": _doc("y1", "Y"), "y2": _doc("y2", "Y"),
            "z": _doc("z", "Z"), "w": _doc("w", "W"), "q": _doc("q", "Q", lang="ar", langs=("ar",))}
    pool = [Scored(i, sc, 0, 0, 0, 1) for i, sc in [("x", 0.99), ("y1", 0.9), ("y2", 0.8), ("z", 0.7), ("w", 0.6), ("q", 0.1)]]
    got = [x.related_id for x in select(docs["t"], pool, docs, s)]
    assert got == ["y1", "z", "w", "q"]  # top 3 + the best Arabic-readable story for Arabic readers


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_vector_index_roundtrip_and_dead_rows(kind):
    import numpy as np

    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 16)).astype("float32")
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    idx = VectorIndex(16, kind)
    idx.add(x)
    idx.kill([1])
    back = VectorIndex.from_bytes(idx.to_bytes())
    sims, rows = back.search(x[:3], 5)
    assert rows[0][0] == 0 and 1 not in rows[1] and back.dead == 1
    assert np.allclose(back.vectors([2]), x[2:3], atol=1e-6)


def _related(settings):
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    rows = con.execute("SELECT article_id, related_id, rank FROM related_articles ORDER BY 1, 3").fetchall()
    gen = con.execute("SELECT generation FROM related_state").fetchone()[0]
    con.close()
    lists = {}
    for a, r, _ in rows:
        lists.setdefault(a, []).append(r)
    return lists, gen


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_incremental_refresh_matches_a_full_one_and_never_leaks(tmp_path, kind):
    from datetime import UTC, datetime

    from pipeline.lake.store import open_store
    from pipeline.stages import load_warehouse, refresh_related

    run_ts = datetime(2025, 4, 1, tzinfo=UTC)
    inc = Settings.load(lake=str(tmp_path / "a" / "lake"), warehouse=f"duckdb:///{tmp_path / 'a' / 'wh.duckdb'}", related_index=kind)
    store = open_store(inc)
    first = [r for r in ROWS if r["topic"] not in ("flood", "port")]
    write_labelled(store, first, "20250301T000000Z-one")
    load_warehouse(inc, run_ts=run_ts, store=store)
    r1 = refresh_related(inc, store=store, run_ts=run_ts)
    before, _ = _related(inc)
    write_labelled(store, [r for r in ROWS if r not in first], "20250302T000000Z-two", all_rows=ROWS)
    load_warehouse(inc, run_ts=run_ts, store=store)
    r2 = refresh_related(inc, store=store, run_ts=run_ts)
    assert r2.new == r2.canonicals - r1.canonicals > 0
    assert r2.entered > 0  # existing lists took in new articles
    after, gen = _related(inc)
    assert any(set(after[a]) - set(before[a]) for a in before)
    again = refresh_related(inc, store=store, run_ts=run_ts)  # nothing new: nothing done
    assert again.generation == gen and again.lists_changed == 0 and _related(inc) == (after, gen)

    full = Settings.load(lake=str(tmp_path / "b" / "lake"), warehouse=f"duckdb:///{tmp_path / 'b' / 'wh.duckdb'}", related_index=kind)
    fstore = open_store(full)
    write_labelled(fstore, ROWS, "20250301T000000Z-all")
    load_warehouse(full, run_ts=run_ts, store=fstore)
    refresh_related(full, store=fstore, run_ts=run_ts)
    scratch, _ = _related(full)
    assert after.keys() == scratch.keys()
    # nearly the same top 5: stored text scores keep the document frequencies of their day
    overlap = [len(set(after[a][:5]) & set(scratch[a][:5])) / 5 for a in after]
    assert sum(overlap) / len(overlap) >= 0.9 and min(overlap) >= 0.6
    for a, items in after.items():
        assert STORY[a] not in {STORY[x] for x in items}
        assert len({STORY[x] for x in items}) == len(items)


def test_a_fresh_warehouse_gets_every_list_from_the_lake_state(tmp_path):
    from datetime import UTC, datetime

    from pipeline.lake.store import open_store
    from pipeline.stages import load_warehouse, refresh_related

    run_ts = datetime(2025, 4, 1, tzinfo=UTC)
    s = Settings.load(lake=str(tmp_path / "lake"), warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}", related_index="exact")
    store = open_store(s)
    write_labelled(store, ROWS, "20250301T000000Z-all")
    load_warehouse(s, run_ts=run_ts, store=store)
    refresh_related(s, store=store, run_ts=run_ts)
    lists, gen = _related(s)
    s2 = s.replace(warehouse=f"duckdb:///{tmp_path / 'wh2.duckdb'}")
    load_warehouse(s2, run_ts=run_ts, store=store)
    report = refresh_related(s2, store=store, run_ts=run_ts)
    assert report.full_rewrite and _related(s2) == (lists, gen)
