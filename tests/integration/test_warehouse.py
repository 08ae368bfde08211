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
import pytest

from bench.warehouse_synth import PG_URL, make_articles, pg_schema, postgres_available
from pipeline.config import Settings
from pipeline.lake import dedup_zone
from pipeline.lake.batches import write_batch
from pipeline.lake.store import open_store
from pipeline.models import DedupAssignment, DedupEdge
from pipeline.warehouse import loads
from pipeline.warehouse.backend import open_backend
from pipeline.warehouse.stage import load_warehouse
from tests.conftest import REPO, need

RUN_TS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def put_related(settings: Settings, table: pa.Table) -> int:
    """Replace every related list (what the related stage's sink does, minus its state)."""
    from pipeline.warehouse import loads
    from pipeline.warehouse.backend import open_backend

    with open_backend(settings) as be:
        be.migrate()
        return loads.replace_related(be, table)
BACKENDS = ["duckdb", "postgres"]


@pytest.fixture(params=BACKENDS)
def wh(request, tmp_path):
    lake = str(tmp_path / "lake")
    if request.param == "duckdb":
        yield Settings.load(lake=lake, warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}")
        return
    need(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
    with pg_schema() as schema:
        yield Settings.load(lake=lake, warehouse=PG_URL, warehouse_schema=schema)


def put_batch(settings: Settings, batch_id: str, table: pa.Table) -> None:
    table = table.set_column(table.schema.get_field_index("batch_id"), "batch_id", pa.array([batch_id] * table.num_rows, pa.string()))
    write_batch(open_store(settings), "articles", batch_id, table)


def put_dedup(settings: Settings, generation: str, assignments: list[dict], edges: list[DedupEdge] = ()) -> None:
    dedup_zone.write_generation(open_store(settings), generation, [DedupAssignment(**a) for a in assignments], list(edges), {})


def snapshot(settings: Settings) -> dict:
    with open_backend(settings, read_only=True) as be:
        return {
            "counts": {r["table_name"]: r["n"] for r in be.query("warehouse_counts")},
            "ledger": sorted(be.loaded_batches("articles")),
            "stale_docs": len(be.query("search_docs_missing", {"version": "|" + loads.SEARCH_TEXT_VERSION})),
        }


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
    assert before["counts"]["articles"] == 40 and before["counts"]["search_docs"] == 40
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
    assert after["counts"]["search_docs"] == after["counts"]["articles"]
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
    assert snap["counts"]["search_docs"] == 180


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
