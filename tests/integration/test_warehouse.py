"""The warehouse contract, run against both backends: DuckDB (a file per test) and PostgreSQL
(127.0.0.1:5432, db ``test``, a throw-away schema per test; required in CI).

Migrations, idempotent ledgered loads, rollback of a failed batch, concurrent loads of
different batches, the tables and views analysts read, and the related/article reads.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime

import pyarrow as pa

from bench.warehouse_synth import make_articles
from pipeline.config import Settings
from pipeline.lake import dedup_zone
from pipeline.lake.batches import read_batch, read_manifest, write_batch
from pipeline.lake.store import open_store
from pipeline.models import DedupAssignment, DedupEdge
from pipeline.warehouse import loads
from pipeline.warehouse.backend import open_backend
from pipeline.warehouse.stage import load_warehouse
from tests.conftest import REPO

RUN_TS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def put_related(settings: Settings, table: pa.Table) -> int:
    """Replace every related list (what the related stage's sink does, minus its state)."""
    from pipeline.warehouse import loads
    from pipeline.warehouse.backend import open_backend

    with open_backend(settings) as be:
        be.migrate()
        return loads.replace_related(be, table)


def put_batch(settings: Settings, batch_id: str, table: pa.Table) -> None:
    table = table.set_column(table.schema.get_field_index("batch_id"), "batch_id", pa.array([batch_id] * table.num_rows, pa.string()))
    write_batch(open_store(settings), "articles", batch_id, table)


def put_dedup(settings: Settings, generation: str, assignments: list[dict], edges: list[DedupEdge] = (),
              aliases: dict[str, str] | None = None) -> None:
    dedup_zone.write_generation(open_store(settings), generation, [DedupAssignment(**a) for a in assignments], list(edges), {},
                                aliases=aliases)


def snapshot(settings: Settings) -> dict:
    with open_backend(settings, read_only=True) as be:
        return {
            "counts": {r["table_name"]: r["n"] for r in be.query("warehouse_counts")},
            "ledger": sorted(be.loaded_batches("articles")),
            "index_docs": index_docs(settings),
        }


def index_docs(settings: Settings) -> int:
    """Documents in the search index beside the warehouse (issue 15; 0 when there is none)."""
    from pipeline.search.index import forget_readers, read_meta, reader
    from pipeline.search.sync import index_path

    if read_meta(index_path(settings)) is None:
        return 0
    forget_readers()
    return reader(index_path(settings)).index.searcher().num_docs


# -- migrations ---------------------------------------------------------------------------


def test_migrate_records_versions_and_is_repeatable(wh):
    with open_backend(wh) as be:
        first = be.migrate()
        second = be.migrate()
        status = be.status()
    versions = [m.version for m in status]
    assert first == versions and 1 in first and 4 in first
    assert second == []
    assert all(s.applied for s in status)


def test_cli_warehouse_migrate_and_status(wh, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("NEWSFLOW_WAREHOUSE", wh.warehouse)
    if wh.warehouse_schema:
        monkeypatch.setenv("NEWSFLOW_WAREHOUSE_SCHEMA", wh.warehouse_schema)
    assert main(["warehouse", "migrate"]) == 0
    assert "applied 001" in capsys.readouterr().out
    assert main(["warehouse", "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["warehouse", "status"]) == 0
    out = capsys.readouterr().out
    assert "001 001_init.sql" in out and "articles" in out and "PENDING" not in out


# -- loads --------------------------------------------------------------------------------


def test_load_is_idempotent_and_ledgered(wh):
    table, assignments = make_articles(40, batch_id="b1")
    put_batch(wh, "2026-b1", table)
    put_dedup(wh, "g1", assignments)
    r1 = load_warehouse(wh, run_ts=RUN_TS)
    assert (r1.batches_loaded, r1.rows_loaded, r1.dedup_generation, r1.search_indexed) == (1, 40, "g1", True)
    before = snapshot(wh)
    r2 = load_warehouse(wh, run_ts=RUN_TS)
    assert (r2.batches_loaded, r2.rows_loaded) == (0, 0)
    # Forcing the same batch through the loader again (a second loader that lost a race)
    # changes nothing either: the ledger check inside the transaction skips it.
    with open_backend(wh) as be:
        assert loads.load_articles(be, "2026-b1", table, RUN_TS) == 0
    assert snapshot(wh) == before
    assert before["counts"]["articles"] == 40 and before["index_docs"] == 40
    assert before["counts"]["stories"] == len({a["story_id"] for a in assignments})


def test_reloading_changed_rows_upserts_by_key(wh):
    table, _ = make_articles(10, batch_id="b1")
    put_batch(wh, "2026-b1", table)
    load_warehouse(wh, run_ts=RUN_TS)
    changed = table.set_column(table.schema.get_field_index("title"), "title", pa.array(["lighthouse renamed"] * 10))
    put_batch(wh, "2026-b2", changed.slice(0, 5))
    load_warehouse(wh, run_ts=RUN_TS)
    with open_backend(wh, read_only=True) as be:
        assert be.query("warehouse_counts")[0]["n"] == 10
        renamed = [r for r in be.query("article", {"article_id": table["article_id"][0].as_py()})]
    assert renamed[0]["title"] == "lighthouse renamed"


def test_failed_batch_rolls_back_and_is_retried_later(wh):
    good, _ = make_articles(10, batch_id="b1")
    put_batch(wh, "2026-b1", good)
    load_warehouse(wh, run_ts=RUN_TS)
    before = snapshot(wh)
    bad, _ = make_articles(6, start=100, batch_id="b2")
    urls = bad["url"].to_pylist()
    urls[4] = None  # violates NOT NULL: the whole batch must go back, rows 0-3 included
    bad = bad.set_column(bad.schema.get_field_index("url"), "url", pa.array(urls, pa.string()))
    put_batch(wh, "2026-b2", bad)
    later, _ = make_articles(5, start=200, batch_id="b3")
    put_batch(wh, "2026-b3", later)
    report = load_warehouse(wh, run_ts=RUN_TS)
    assert report.batches_failed == 1 and report.failures[0].startswith("2026-b2")
    assert (report.batches_loaded, report.rows_loaded) == (1, 5)  # the batch after it still loads
    after = snapshot(wh)
    assert after["ledger"] == ["2026-b1", "2026-b3"]
    assert after["counts"]["articles"] == before["counts"]["articles"] + 5
    assert after["index_docs"] == after["counts"]["articles"]
    # fixed upstream (a corrected batch with the same id): the next load picks it up
    put_batch(wh, "2026-b2", make_articles(6, start=100)[0])
    report = load_warehouse(wh, run_ts=RUN_TS)
    assert (report.batches_loaded, report.rows_loaded, report.batches_failed) == (1, 6, 0)


def test_repeated_keys_in_a_batch_or_generation_do_not_block_loads(wh):
    """A replay can repeat an article in a batch or an edge in a generation: last one wins."""
    table, assignments = make_articles(8, batch_id="b1", pair_every=1)
    twice = pa.concat_tables([table, table.slice(0, 3)])
    put_batch(wh, "2026-b1", twice)
    pairs = [(a["duplicate_of"], a["article_id"]) for a in assignments if a["duplicate_of"]]
    edges = [DedupEdge(o, t, "translation", 0.9, {"share": 0.8}) for o, t in pairs]
    put_dedup(wh, "g1", assignments + assignments[:2], edges + edges[:1])
    report = load_warehouse(wh, run_ts=RUN_TS)
    assert report.batches_failed == 0 and report.dedup_generation == "g1"
    counts = snapshot(wh)["counts"]
    assert counts["articles"] == 8 and counts["article_links"] == len(pairs) and counts["stories"] == 4


def test_concurrent_loads_of_different_batches_lose_no_rows(wh):
    """Four loaders at once, one batch each, with overlapping articles between batches."""
    ids = set()
    for k in range(4):
        table, _ = make_articles(60, start=k * 40, batch_id=f"b{k}")  # 20 rows shared with the next batch
        ids |= set(table["article_id"].to_pylist())
        put_batch(wh, f"2026-b{k}", table)
    with open_backend(wh) as be:
        be.migrate()
    errors, reports = [], []

    def run(k: int) -> None:
        try:
            reports.append(load_warehouse(wh, run_ts=RUN_TS, batch_ids=[f"2026-b{k}"]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sum(r.batches_loaded for r in reports) == 4
    snap = snapshot(wh)
    assert snap["ledger"] == [f"2026-b{k}" for k in range(4)]
    assert snap["counts"]["articles"] == len(ids) == 180
    assert snap["index_docs"] == 180


def test_duckdb_loads_from_two_processes_are_serialized(tmp_path):
    """DuckDB allows one writing process per file: the writer lock makes the second wait."""
    settings = Settings.load(lake=str(tmp_path / "lake"), warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}")
    for k in range(2):
        put_batch(settings, f"2026-p{k}", make_articles(30, start=k * 30)[0])
    env = {"NEWSFLOW_LAKE": settings.lake, "NEWSFLOW_WAREHOUSE": settings.warehouse, "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen([sys.executable, "-m", "pipeline.cli", "warehouse", "load", "--batch", f"2026-p{k}"],
                         cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in range(2)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    snap = snapshot(settings)
    assert snap["ledger"] == ["2026-p0", "2026-p1"] and snap["counts"]["articles"] == 60


# -- tables and views ---------------------------------------------------------------------


def test_stories_links_views_and_related(wh):
    table, assignments = make_articles(16, batch_id="b1", pair_every=1)
    put_batch(wh, "2026-b1", table)
    pairs = [(a["duplicate_of"], a["article_id"]) for a in assignments if a["duplicate_of"]]
    edges = [DedupEdge(o, t, "translation", 0.9, {"share": 0.8, "anchors": ["2026"], "attribution": "ترجمة"}) for o, t in pairs]
    put_dedup(wh, "g1", assignments, edges)
    load_warehouse(wh, run_ts=RUN_TS)
    ids = table["article_id"].to_pylist()
    related = pa.table({"article_id": [ids[0], ids[0]], "related_id": [ids[2], ids[4]], "rank": pa.array([1, 2], pa.int32()),
                        "score": [0.9, 0.5], "score_embedding": [0.9, 0.5], "score_text": [0.1, 0.1],
                        "score_anchors": [0.0, 0.0], "score_recency": [1.0, 1.0]})
    assert put_related(wh, related) == 2
    with open_backend(wh, read_only=True) as be:
        counts = {r["table_name"]: r["n"] for r in be.query("warehouse_counts")}
        copies = be.query("story_copies", [pairs[0][1]])
    assert counts["stories"] == 8 and counts["article_links"] == 8 and counts["related_articles"] == 2
    assert [c["dup_kind"] for c in copies] == [None, "translation"]
    assert [c["language"] for c in copies] == ["en", "ar"]

    from pipeline.warehouse.queries import article, related_for

    rows = related_for(wh, ids[0], k=5)
    assert [r["article_id"] for r in rows][:1] in ([ids[2]], [ids[4]]) and len(rows) >= 1
    assert all(isinstance(r["score"], float) for r in rows)
    # The Arabic translation reads its canonical's list; its own story is never offered.
    ar_rows = related_for(wh, ids[1], k=5)
    assert ids[0] not in [r["article_id"] for r in ar_rows] and ar_rows
    assert ar_rows[0]["language"] == "ar"  # reader-language member of the related story first
    assert related_for(wh, "0000000000000000") is None
    assert article(wh, ids[1])["dup_kind"] == "translation"


# -- story aliases (issue 12, point 5: a merged story's id keeps resolving) ------------------


def story_aliases(settings: Settings) -> dict[str, str]:
    with open_backend(settings, read_only=True) as be:
        return {r["alias"]: r["story_id"] for r in be.query("api_story_aliases")}


def resolved(settings: Settings, ids: list[str]) -> dict[str, tuple[str, bool]]:
    """id -> (story it means now, is_alias) through the analysts' view ``v_story_resolved``."""
    with open_backend(settings, read_only=True) as be:
        rows = be._execute("SELECT id, story_id, is_alias FROM v_story_resolved ORDER BY id").fetchall()
    out: dict[str, tuple[str, bool]] = {}
    for i, s, a in rows:
        assert i not in out, f"{i} resolves twice"
        out[i] = (s, bool(a))
    return {i: out.get(i) for i in ids}


def merged(assignments: list[dict], loser: str, survivor: str) -> list[dict]:
    """The assignments after the story ``loser`` joined ``survivor`` (its members re-pointed)."""
    return [a | {"story_id": survivor} if a["story_id"] == loser else a for a in assignments]


def test_story_aliases_load_with_their_generation_and_the_next_generation_replaces_them(wh):
    table, assignments = make_articles(16, batch_id="b1", pair_every=1)  # 8 stories of 2
    put_batch(wh, "2026-b1", table)
    s = sorted({a["story_id"] for a in assignments})
    put_dedup(wh, "g1", assignments, aliases={"s_retired": s[0]})
    assert load_warehouse(wh, run_ts=RUN_TS).dedup_generation == "g1"
    assert story_aliases(wh) == {"s_retired": s[0]}
    with open_backend(wh, read_only=True) as be:
        assert be.loaded_batches("story_aliases") == {"g1"}
        assert {r["table_name"]: r["n"] for r in be.query("warehouse_counts")}["story_aliases"] == 1

    # g2: story 1 merges into story 0; the generation carries every alias, re-pointed.
    put_dedup(wh, "g2", merged(assignments, s[1], s[0]), aliases={"s_retired": s[0], s[1]: s[0]})
    load_warehouse(wh, run_ts=RUN_TS)
    assert story_aliases(wh) == {"s_retired": s[0], s[1]: s[0]}
    assert resolved(wh, [s[0], s[1], "s_retired", "s_unknown"]) == {
        s[0]: (s[0], False), s[1]: (s[0], True), "s_retired": (s[0], True), "s_unknown": None}
    with open_backend(wh, read_only=True) as be:
        survivor = be._execute("SELECT n_copies FROM stories WHERE story_id = ?" if be.name == "duckdb"
                               else "SELECT n_copies FROM stories WHERE story_id = %s", [s[0]]).fetchone()[0]
    assert survivor == 4 and snapshot(wh)["counts"]["stories"] == 7

    # Rerun: the ledger skips g2; applying g2 again by force changes nothing either.
    before = (snapshot(wh), story_aliases(wh))
    assert load_warehouse(wh, run_ts=RUN_TS).batches_loaded == 0
    gen = dedup_zone.read_latest(open_store(wh))
    with open_backend(wh) as be:
        loads.apply_dedup(be, gen.generation_id, gen.assignments, gen.edges, RUN_TS, aliases=gen.aliases)
    assert (snapshot(wh), story_aliases(wh)) == before

    # g3: the merge is undone (story 1 exists again: its alias goes) and the old alias is
    # re-pointed; an alias naming a current story never hides that story.
    put_dedup(wh, "g3", assignments, aliases={"s_retired": s[2], s[3]: s[0]})
    load_warehouse(wh, run_ts=RUN_TS)
    assert story_aliases(wh) == {"s_retired": s[2], s[3]: s[0]}
    assert resolved(wh, [s[1], s[3], "s_retired"]) == {s[1]: (s[1], False), s[3]: (s[3], False), "s_retired": (s[2], True)}
    assert snapshot(wh)["counts"]["stories"] == 8

    # g4: no aliases at all any more: the table empties.
    put_dedup(wh, "g4", assignments)
    load_warehouse(wh, run_ts=RUN_TS)
    assert story_aliases(wh) == {}


def test_aliases_of_a_generation_applied_before_the_warehouse_kept_aliases_catch_up(wh):
    """A generation already in the ledger as ``dedup`` (applied by a load without aliases)
    still gets its aliases on the next load, once (ledger kind ``story_aliases``)."""
    table, assignments = make_articles(8, batch_id="b1", pair_every=1)
    put_batch(wh, "2026-b1", table)
    s = sorted({a["story_id"] for a in assignments})
    put_dedup(wh, "g1", merged(assignments, s[1], s[0]), aliases={s[1]: s[0]})
    gen = dedup_zone.read_latest(open_store(wh))
    with open_backend(wh) as be:
        be.migrate()
        # an older load: the articles first (a generation is ledgered only once all its
        # articles are in, issue 13), then the stories without aliases
        loads.load_articles(be, "2026-b1", read_batch(open_store(wh), read_manifest(open_store(wh), "articles", "2026-b1")),
                            RUN_TS)
        assert loads.apply_dedup(be, "g1", gen.assignments, gen.edges, RUN_TS) == 0  # aliases=None
        assert be.loaded_batches("dedup") == {"g1"} and be.loaded_batches("story_aliases") == set()
    assert story_aliases(wh) == {}
    load_warehouse(wh, run_ts=RUN_TS)
    assert story_aliases(wh) == {s[1]: s[0]}
    with open_backend(wh, read_only=True) as be:
        assert be.loaded_batches("story_aliases") == {"g1"}
        ledger = len(be.query("ledger_loaded", {"kind": "story_aliases"}))
    load_warehouse(wh, run_ts=RUN_TS)
    with open_backend(wh, read_only=True) as be:
        assert len(be.query("ledger_loaded", {"kind": "story_aliases"})) == ledger == 1
    assert story_aliases(wh) == {s[1]: s[0]}


def test_search_hits_carry_the_current_story_id_after_a_merge(wh):
    """Search documents hold no story id: hits take it from ``articles`` at query time, so
    after a merge they carry the survivor's id, and story expansion follows the survivor."""
    from bench.warehouse_synth import translation_pair
    from pipeline.lake.schema import ARTICLE_SCHEMA, with_version
    from pipeline.warehouse.queries import search

    light_rows, light = translation_pair(
        "alias-lighthouse", "Volunteers repaint the old lighthouse", "متطوعون يعيدون طلاء المنارة القديمة",
        "Volunteers repainted the old lighthouse on the northern cape.", "أعاد متطوعون طلاء المنارة القديمة على الرأس الشمالي.")
    ferry_rows, ferry = translation_pair(
        "alias-ferry", "Night ferry to the islands resumes", "استئناف عبارة الليل إلى الجزر",
        "The night ferry to the outer islands resumes its winter timetable.", "تستأنف عبارة الليل إلى الجزر الخارجية جدولها الشتوي.")
    rows = light_rows + ferry_rows
    put_batch(wh, "2026-b1", pa.Table.from_pylist(rows, schema=with_version(ARTICLE_SCHEMA, "articles")))
    keep, gone = light[0]["story_id"], ferry[0]["story_id"]
    put_dedup(wh, "g1", light + ferry)
    load_warehouse(wh, run_ts=RUN_TS)
    assert {h.story_id for h in search(wh, "ferry islands")} == {gone}

    put_dedup(wh, "g2", merged(light + ferry, gone, keep), aliases={gone: keep})
    load_warehouse(wh, run_ts=RUN_TS)
    hits = search(wh, "ferry islands")
    assert [h.article_id for h in hits] == [ferry_rows[0]["article_id"]] and hits[0].story_id == keep
    expanded = search(wh, "ferry islands", expand=True)
    assert {h.story_id for h in expanded} == {keep}
    assert {h.article_id for h in expanded} == {r["article_id"] for r in rows}
