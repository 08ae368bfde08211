"""The search index (issue 15): incremental, in step with stories, crash-safe, publishable,
and the same ranking whichever warehouse holds the rows.

* each load indexes only its own batches (the index records what it holds) and replaces a
  changed article's document instead of adding a second one;
* a dedup generation that re-points an article to another story re-points its document
  (``search_queue``), and the queue is empty afterwards;
* a load killed between the warehouse commit and the index commit (failpoint
  ``before_index_commit``) is caught up by the next load: same results as a clean run;
* a missing or corrupt index is a one-line error naming ``newsflow warehouse reindex``,
  which rebuilds it from the warehouse rows;
* with an S3 lake the index is published after each commit and a replica serves it;
* DuckDB and PostgreSQL warehouses loaded from one lake answer identically.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from bench.warehouse_synth import PG_URL, make_articles, pg_schema, postgres_available
from pipeline.config import Settings
from pipeline.lake import dedup_zone
from pipeline.lake.batches import write_batch
from pipeline.lake.store import open_store
from pipeline.models import DedupAssignment
from pipeline.search.index import SCHEMA_VERSION, SearchIndexError, forget_readers, read_meta
from pipeline.search.sync import index_path
from pipeline.warehouse.backend import open_backend
from pipeline.warehouse.queries import search
from pipeline.warehouse.stage import load_warehouse
from tests.conftest import REPO, need

RUN_TS = datetime(2026, 3, 1, tzinfo=UTC)
QUERIES = ["harbour budget", "desalination", "ميناء", "لتحلية المياه", "railway museum festival", "مكتبة جامعة",
           "drought وزير", "bank loan farmers"]


def _duck(tmp_path, name="wh", **kw) -> Settings:
    return Settings.load(lake=str(tmp_path / "lake"), warehouse=f"duckdb:///{tmp_path / f'{name}.duckdb'}", **kw)


def _answers(settings: Settings) -> dict:
    forget_readers()
    return {q: [(h.article_id, h.story_id, round(h.score, 5)) for h in search(settings, q, limit=10)] for q in QUERIES}


def _matches(settings: Settings) -> dict:
    """Every match of each query with its story.  Not the scores: a replaced document counts
    in the engine's BM25 statistics until a background merge drops it, so two indexes with
    the same documents but different histories score slightly differently."""
    forget_readers()
    return {q: sorted((h.article_id, h.story_id) for h in search(settings, q, limit=400)) for q in QUERIES}


def _lake(settings: Settings, batches: int = 3, n: int = 120) -> list:
    store = open_store(settings)
    assignments = []
    for b in range(batches):
        table, a = make_articles(n, start=b * n, batch_id=f"s-{b}", seed=b)
        write_batch(store, "articles", f"s-{b}", table)
        assignments += a
    dedup_zone.write_generation(store, "g1", [DedupAssignment(**a) for a in assignments], [], {})
    return assignments


def _count(settings: Settings, aid: str) -> int:
    from pipeline.search.index import reader

    forget_readers()
    r = reader(index_path(settings))
    import tantivy

    return r.index.searcher().search(tantivy.Query.term_query(r.schema, "article_id", aid), 10).count


def test_loads_are_incremental_and_replace_changed_articles(tmp_path):
    settings = _duck(tmp_path)
    store = open_store(settings)
    first, _ = make_articles(60, batch_id="p-1", seed=1)
    write_batch(store, "articles", "p-1", first)
    load_warehouse(settings, run_ts=RUN_TS, store=store)
    meta = read_meta(index_path(settings))
    assert meta.held == {"p-1"} and meta.version == 1

    changed = first.slice(0, 1).to_pylist()[0]
    changed.update(body_text="zanzibarite quarries reopen", title="quarries", content_hash="changed", batch_id="p-2")
    second, _ = make_articles(20, start=500, batch_id="p-2", seed=2)
    write_batch(store, "articles", "p-2", pa.Table.from_pylist(second.to_pylist() + [changed], schema=first.schema))
    from pipeline.search.sync import sync

    with open_backend(settings) as be:  # what the load's sync sees: only the new batch is missing
        be.migrate()
        from pipeline.warehouse import loads

        loads.load_articles(be, "p-2", read_from(store, "p-2"), RUN_TS)
        report = sync(be, settings)
    assert (report.batches, report.rows) == (1, 21)  # the new batch only, never the whole warehouse
    meta = read_meta(index_path(settings))
    assert meta.held == {"p-1", "p-2"} and meta.version == 2
    assert [h.article_id for h in search(settings, "zanzibarite")] == [changed["article_id"]]
    assert _count(settings, changed["article_id"]) == 1  # replaced, not doubled
    old_words = first.slice(0, 1).to_pylist()[0]["title"].split()[:2]
    assert changed["article_id"] not in [h.article_id for h in search(settings, " ".join(old_words), limit=100)
                                         if h.score > 0 and h.title == first["title"][0].as_py()]
    again = load_warehouse(settings, run_ts=RUN_TS, store=store)
    assert not again.search_indexed and read_meta(index_path(settings)).version == 2  # nothing to do


def read_from(store, batch_id):
    from pipeline.lake.batches import list_batches, read_batch

    return next(read_batch(store, m) for m in list_batches(store, "articles") if m.batch_id == batch_id)


def test_story_changes_repoint_documents(tmp_path):
    settings = _duck(tmp_path)
    assignments = _lake(settings, batches=1)
    load_warehouse(settings, run_ts=RUN_TS)
    moved = assignments[1]["article_id"]  # an Arabic translation: moves to a story of its own
    with open_backend(settings, read_only=True) as be:
        title = be.query("article", {"article_id": moved})[0]["title"]
    from pipeline.search.index import reader

    engine = {h.article_id: h.story_id for h in reader(index_path(settings)).search(title.split(), limit=200)}
    assert engine[moved] == assignments[1]["story_id"]
    regenerated = [dict(a, story_id="s_new", duplicate_of=None, dup_kind=None, dup_score=None)
                   if a["article_id"] == moved else a for a in assignments]
    dedup_zone.write_generation(open_store(settings), "g2", [DedupAssignment(**a) for a in regenerated], [], {})
    report = load_warehouse(settings, run_ts=RUN_TS)
    assert report.search_indexed
    forget_readers()
    engine = {h.article_id: h.story_id for h in reader(index_path(settings)).search(title.split(), limit=200)}
    assert engine[moved] == "s_new"
    with open_backend(settings, read_only=True) as be:
        assert be.query("search_queue") == []


def _cli(settings: Settings, *args: str, failpoint: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(NEWSFLOW_LAKE=settings.lake, NEWSFLOW_WAREHOUSE=settings.warehouse, PYTHONPATH=str(REPO))
    if failpoint:
        env["NEWSFLOW_FAILPOINT"] = failpoint
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_crash_between_warehouse_and_index_commit_catches_up(tmp_path):
    clean = _duck(tmp_path / "clean")
    crashed = _duck(tmp_path / "crashed")
    for s in (clean, crashed):  # two batches loaded and indexed; then a third and a generation re-pointing stories
        assignments = _lake(s, batches=2)
        assert _cli(s, "warehouse", "load").returncode == 0
        table, more = make_articles(120, start=240, batch_id="s-2", seed=2)
        write_batch(open_store(s), "articles", "s-2", table)
        moved = {a["article_id"] for a in assignments[1:40:2]}  # existing articles: their rows change story
        regenerated = [dict(a, story_id="s_new", duplicate_of=None, dup_kind=None, dup_score=None)
                       if a["article_id"] in moved else a for a in assignments + more]
        dedup_zone.write_generation(open_store(s), "g2", [DedupAssignment(**a) for a in regenerated], [], {})
    assert _cli(clean, "warehouse", "load").returncode == 0
    proc = _cli(crashed, "warehouse", "load", failpoint="before_index_commit")
    assert proc.returncode == -9, proc.stderr  # SIGKILL: the warehouse committed, the index did not
    with open_backend(crashed, read_only=True) as be:
        assert len(be.loaded_batches("articles")) == 3 and len(be.query("search_queue")) == len(moved)
    assert read_meta(index_path(crashed)).held == {"s-0", "s-1"}  # the third batch never committed
    status = _cli(crashed, "warehouse", "status")
    assert "search index" in status.stdout and "behind" in status.stdout, status.stdout
    assert _cli(crashed, "warehouse", "load").returncode == 0  # the next load catches up
    assert _matches(crashed) == _matches(clean)
    assert all(_matches(clean).values())
    with open_backend(crashed, read_only=True) as be:
        assert be.query("search_queue") == []


def test_missing_or_corrupt_index_is_one_clear_line_and_reindex_fixes_it(tmp_path):
    settings = _duck(tmp_path)
    _lake(settings, batches=1)
    load_warehouse(settings, run_ts=RUN_TS)
    before = _answers(settings)
    path = index_path(settings)
    for f in path.iterdir():
        if f.name.endswith(".idx") or f.name == "meta.json":
            f.write_bytes(b"garbage")
    forget_readers()
    with pytest.raises(SearchIndexError):
        search(settings, "harbour")
    proc = _cli(settings, "search", "harbour")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1 and "newsflow warehouse reindex" in lines[0], proc.stderr
    import shutil

    shutil.rmtree(path)
    proc = _cli(settings, "search", "harbour")
    assert len(proc.stderr.strip().splitlines()) == 1 and "newsflow warehouse reindex" in proc.stderr
    fixed = _cli(settings, "warehouse", "reindex")
    assert fixed.returncode == 0 and "360" not in fixed.stdout and "120 articles" in fixed.stdout, fixed.stdout
    assert _answers(settings) == before


def test_published_index_serves_replicas(tmp_path, s3_server):
    lake = "s3://newsflow-test/search-pub"
    writer = Settings.load(lake=lake, s3_endpoint_url=s3_server, warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}",
                           search_publish=True)
    replica = writer.replace(search_publish=False, search_replica=True, search_pull_seconds=0.0,
                             search_index=str(tmp_path / "replica"))
    store = open_store(writer)
    table, _ = make_articles(80, batch_id="r-1", seed=4)
    write_batch(store, "articles", "r-1", table)
    load_warehouse(writer, run_ts=RUN_TS, store=store)
    assert any(k.startswith("search/versions/") for k in store.list("search/"))
    assert _answers(replica) == _answers(writer) and any(_answers(writer).values())
    more, _ = make_articles(40, start=900, batch_id="r-2", seed=5)
    more = more.set_column(more.schema.get_field_index("title"), "title",
                           pa.array(["quokka sanctuary"] * more.num_rows))
    write_batch(store, "articles", "r-2", more)
    load_warehouse(writer, run_ts=RUN_TS, store=store)
    assert read_meta(tmp_path / "replica").version == 1
    assert len(search(replica, "quokka", limit=100)) == 40  # pulled the newer committed version
    assert read_meta(tmp_path / "replica").version == 2
    assert _answers(replica) == _answers(writer)
    for k in range(3, 6):  # more commits: only the last three versions stay published
        extra, _ = make_articles(5, start=2000 + 10 * k, batch_id=f"r-{k}", seed=k)
        write_batch(store, "articles", f"r-{k}", extra)
        load_warehouse(writer, run_ts=RUN_TS, store=store)
    versions = [k for k in store.list("search/versions/")]
    assert len(versions) == 3 and versions[-1].endswith(f"{read_meta(index_path(writer)).version:010d}.json")
    assert _answers(replica) == _answers(writer)


def test_duckdb_and_postgres_give_the_same_ranking(tmp_path):
    need(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
    duck = _duck(tmp_path)
    _lake(duck, batches=2, n=150)
    load_warehouse(duck, run_ts=RUN_TS)
    with pg_schema(prefix="nf_same_") as schema:
        pg = Settings.load(lake=duck.lake, warehouse=PG_URL, warehouse_schema=schema)
        load_warehouse(pg, run_ts=RUN_TS)
        assert index_path(pg) != index_path(duck)
        for kw in ({}, {"language": "ar"}, {"since": "2026-01-02"}, {"collapse": True}, {"expand": True}):
            for q in QUERIES:
                d = [(h.article_id, h.story_id, h.score) for h in search(duck, q, limit=10, **kw)]
                p = [(h.article_id, h.story_id, h.score) for h in search(pg, q, limit=10, **kw)]
                assert d == p, (q, kw)
        assert any(search(pg, q) for q in QUERIES)


def test_hits_show_the_warehouse_rows_without_reading_them(tmp_path, monkeypatch):
    """What a hit shows (title, URL, outlet, language, date, snippet, current story) comes
    from the index's stored fields, equal to the warehouse rows: a plain search opens no
    warehouse connection (on DuckDB that read was a table scan, 2-4 ms at 1M articles)."""
    from pipeline.warehouse import queries

    settings = _duck(tmp_path)
    _lake(settings, batches=1)
    load_warehouse(settings, run_ts=RUN_TS)
    forget_readers()
    hits = [h for q in QUERIES for h in search(settings, q, limit=10)]
    assert len(hits) >= 20
    with open_backend(settings, read_only=True) as be:
        rows = {r["article_id"]: r for r in be.query("search_rows_ids", {"ids": [h.article_id for h in hits]})}
    for h in hits:
        r = rows[h.article_id]
        assert (h.title, h.url, h.source_domain, h.language, h.story_id) == (
            r["title"], r["url"], r["source_domain"], r["language"], r["story_id"])
        assert h.published_at == r["published_at"] and h.published_at.utcoffset().total_seconds() == 0
        assert h.snippet.strip("…")[:40] in r["body_text"].replace("\n", " ")

    def no_warehouse(_settings):
        raise AssertionError("a plain search read the warehouse")

    monkeypatch.setattr(queries, "_reader", no_warehouse)
    assert [(h.article_id, h.title, h.snippet) for h in search(settings, QUERIES[0], limit=10)] == \
        [(h.article_id, h.title, h.snippet) for h in hits[:len(search(settings, QUERIES[0], limit=10))]]


def test_an_index_of_an_earlier_schema_is_rebuilt_by_the_next_load(tmp_path, caplog):
    """An upgrade that changes what the index stores: the next load rebuilds it from the
    warehouse (one warning), instead of failing every load until someone runs reindex."""
    import json

    settings = _duck(tmp_path)
    _lake(settings, batches=1)
    load_warehouse(settings, run_ts=RUN_TS)
    before = _answers(settings)
    meta_file = index_path(settings) / "newsflow-index.json"
    old = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps(dict(old, schema=1)))
    forget_readers()
    with pytest.raises(SearchIndexError, match="schema 1") as refused:  # readers refuse it, with the fix
        search(settings, "harbour")
    assert "next load rebuilds it" in refused.value.hint and "newsflow warehouse reindex" in refused.value.hint
    table, _ = make_articles(10, start=900, batch_id="s-9", seed=9)
    write_batch(open_store(settings), "articles", "s-9", table)
    with caplog.at_level("WARNING", logger="pipeline.search.sync"):
        report = load_warehouse(settings, run_ts=RUN_TS)
    assert report.search_indexed and "rebuilding it from the warehouse" in caplog.text
    meta = read_meta(index_path(settings))
    assert meta.schema == SCHEMA_VERSION and meta.held == {"s-0", "s-9"} and meta.version > old["version"]
    clean = _duck(tmp_path / "clean")  # the same lake loaded by this newsflow from the start
    _lake(clean, batches=1)
    write_batch(open_store(clean), "articles", "s-9", table)
    load_warehouse(clean, run_ts=RUN_TS)
    assert _matches(settings) == _matches(clean) and any(before.values())


def test_a_taken_down_article_leaves_search_before_the_rebuild(tmp_path, monkeypatch):
    """Hits show stored titles and snippets, so a takedown must not wait for the rebuild
    that scrubs the terms (minutes at a million articles): its documents are deleted and
    committed first.  Here the rebuild is interrupted; the article is gone from search."""
    from pipeline.search import sync as sync_mod

    settings = _duck(tmp_path)
    _lake(settings, batches=1)
    load_warehouse(settings, run_ts=RUN_TS)
    forget_readers()
    hit = search(settings, QUERIES[0], limit=1)[0]
    assert hit.article_id in {h.article_id for h in search(settings, hit.title, limit=50)}

    def interrupted(*_a, **_k):
        raise RuntimeError("rebuild interrupted")

    monkeypatch.setattr(sync_mod, "taken_down", lambda be: {hit.article_id})
    monkeypatch.setattr(sync_mod, "reindex", interrupted)
    with open_backend(settings) as be, pytest.raises(RuntimeError, match="interrupted"):
        sync_mod.sync(be, settings)
    assert hit.article_id not in {h.article_id for h in search(settings, hit.title, limit=50)}
    assert _count(settings, hit.article_id) == 0


def test_filters_give_exactly_the_filtered_ranking_whichever_way_the_engine_takes(tmp_path, monkeypatch):
    """A language filter searches that language's field alone, and a date range first
    filters the pruned union's best (falling back to the filtered query when too few are in
    range): each must give exactly the unfiltered ranking with the other rows left out."""
    from datetime import timedelta

    import pipeline.search.index as ix
    from bench.warehouse_synth import T0

    settings = _duck(tmp_path)
    _lake(settings)
    load_warehouse(settings, run_ts=RUN_TS)
    forget_readers()
    took = []
    top = ix.top

    def spy(searcher, query, limit, collapse, when=None, floor=None):
        got = top(searcher, query, limit, collapse, when, floor)
        took.append("post-filter" if when is not None and got is not None else
                    "fallback" if when is not None else "query")
        return got

    monkeypatch.setattr(ix, "top", spy)
    every = {q: search(settings, q, limit=1000) for q in QUERIES}
    assert all(every.values())
    late = T0 + timedelta(days=9)  # the last hours of the articles: few in range
    cases = [({"language": "en"}, lambda h: h.language == "en"),
             ({"language": "ar"}, lambda h: h.language == "ar"),
             ({"language": "fr"}, lambda h: False),
             ({"since": T0 + timedelta(days=1)}, lambda h: h.published_at >= T0 + timedelta(days=1)),
             ({"until": T0 + timedelta(days=8)}, lambda h: h.published_at < T0 + timedelta(days=8)),
             ({"since": late}, lambda h: h.published_at >= late),
             ({"since": T0 + timedelta(days=2), "until": T0 + timedelta(days=3)},
              lambda h: T0 + timedelta(days=2) <= h.published_at < T0 + timedelta(days=3))]
    for kw, keep in cases:
        for q in QUERIES:
            want = [(h.article_id, h.score) for h in every[q] if keep(h)][:7]
            assert [(h.article_id, h.score) for h in search(settings, q, limit=7, **kw)] == want, (q, kw)
            collapsed = [(h.article_id, h.score) for h in search(settings, q, limit=5, collapse=True, **kw)]
            stories, best = set(), []
            for h in every[q]:
                if keep(h) and (h.story_id or h.article_id) not in stories:
                    stories.add(h.story_id or h.article_id)
                    best.append((h.article_id, h.score))
            assert collapsed == best[:5], (q, kw, "collapse")
    assert {"post-filter", "fallback", "query"} <= set(took)


def test_story_expansion_shows_members_from_the_index_and_the_warehouse_alike(tmp_path):
    """Expansion lists each story's members from the warehouse (current stories, canonical
    first) and shows them from the index's stored hits; a member the index does not hold yet
    (a load between its warehouse and index commits) is shown from its warehouse row, the same."""
    from pipeline.search.index import open_writer

    settings = _duck(tmp_path)
    _lake(settings)
    load_warehouse(settings, run_ts=RUN_TS)
    forget_readers()

    def shown(q: str) -> list:
        return [(h.article_id, h.matched_via, h.title, h.url, h.snippet, h.published_at, h.story_id, h.language,
                 h.source_domain) for h in search(settings, q, limit=10, expand=True)]

    before = {q: shown(q) for q in QUERIES}
    via = [h for hits in before.values() for h in hits if h[1]]
    assert via, "no story member came in through expansion"
    gone = via[0][0]
    with open_writer(index_path(settings)) as w:
        w.writer.delete_documents_by_term("article_id", gone)
        w.commit(set())
    forget_readers()
    assert _count(settings, gone) == 0
    assert {q: shown(q) for q in QUERIES} == before
