"""The lake as Delta tables (issue 14): migration from the old format, and outside engines.

``tests/data/legacy_lake.tar.xz`` is a lake written by the code before issue 14 (commit
806a88a: ``newsflow run`` of the sample corpus in two batches, then ``newsflow lake
compact``, so it holds shared compacted files read through ``batch_filter``), without its
raw zone.  ``legacy_lake_expected.json`` is what that code's own readers returned for
every batch (row count, meta, a digest of the rows), computed with that code.

The engine test migrates the same lake onto a local folder and onto the S3-compatible
test server, loads a warehouse from it, and reads every table through DuckDB (the
``delta`` extension from its wheel), Polars and pyarrow (deltalake): every engine returns
the same rows, and they equal what the warehouse loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline.config import Settings
from pipeline.lake import dedup_zone, engines, tables
from pipeline.lake.batches import list_batches, read_batch
from pipeline.lake.cli import publish_related_lists
from pipeline.lake.legacy import migrate
from pipeline.lake.store import LocalStore, open_store

DATA = Path(__file__).parent.parent / "data"
EXPECTED = json.loads((DATA / "legacy_lake_expected.json").read_text())


def _unpack_into(store) -> int:
    n = 0
    with tarfile.open(DATA / "legacy_lake.tar.xz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                store.put(m.name, tar.extractfile(m).read())
                n += 1
    return n


LATER_COLUMNS = ("revision", "content_fingerprint", "entry_hash", "revision_kind", "revision_diff")


def _digest(rows: list[dict]) -> str:
    return hashlib.sha256(json.dumps(sorted(json.dumps(r, default=str, sort_keys=True) for r in rows)).encode()).hexdigest()


def test_migrate_converts_a_lake_written_by_the_old_code_with_nothing_lost(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main

    store = LocalStore(tmp_path / "lake")
    assert _unpack_into(store) > 50
    monkeypatch.setenv("NEWSFLOW_LAKE", str(tmp_path / "lake"))
    assert main(["lake", "migrate"]) == 0
    out = capsys.readouterr().out
    print(out)
    assert "articles: 2 batch(es), 61 rows" in out and "related-lists: 1 batch(es)" in out
    assert "migrated;" in out and "PROBLEM" not in out
    for kind, batches in EXPECTED.items():
        if kind == "LATEST":
            continue
        for batch_id, want in batches.items():
            if kind == dedup_zone.INDEX:
                t = dedup_zone._read(store, dedup_zone.index_key(batch_id), ["article_id", "docvec"])
                rows = sorted(zip(t["article_id"].to_pylist(),
                                  [hashlib.sha256(b).hexdigest()[:16] for b in t["docvec"].to_pylist()], strict=True))
                assert hashlib.sha256(json.dumps(rows).encode()).hexdigest() == want["digest"], (kind, batch_id)
                assert dedup_zone.index_manifest(store, batch_id).meta == want["meta"]
                continue
            if kind in ("dedup-assignments", "dedup-edges", "dedup-aliases"):
                ver = tables.versions_with_batch(store, kind, batch_id)  # older generations: time travel
                got = tables.read(store, kind, [batch_id], version=ver)
                got = got.drop_columns(["batch_id", tables.BATCH_META])
                assert json.loads(tables.read(store, kind, [batch_id], version=ver)[tables.BATCH_META][0].as_py()
                                  if got.num_rows else json.dumps(want["meta"])) == want["meta"]
            else:
                (b,) = [b for b in list_batches(store, kind) if b.batch_id == batch_id]
                assert (b.rows, b.meta) == (want["rows"], want["meta"]), (kind, batch_id)
                got = read_batch(store, b)
            assert got.num_rows == want["rows"], (kind, batch_id)
            # columns added to the schema after the legacy lake was written (issue 19's
            # revision columns) read NULL for its rows: not part of what the old code returned
            later = [c for c in LATER_COLUMNS if c in got.column_names and got[c].null_count == got.num_rows]
            assert _digest(got.drop_columns(later).to_pylist()) == want["digest"], (kind, batch_id)
    assert dedup_zone.latest_id(store) == EXPECTED["LATEST"]
    # the old manifests and files are gone; the dedup index objects and nothing else stay
    left = [k for k in store.list("") if not k.startswith(("tables/", "_empty/", "dedup-index/", "related/"))]
    assert left == [], left
    assert main(["lake", "migrate"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


@pytest.fixture(scope="module", params=["local", "s3"])
def loaded(request, tmp_path_factory):
    """A migrated lake (local or S3) and a DuckDB warehouse loaded from it."""
    from pipeline.stages import load_warehouse

    root = tmp_path_factory.mktemp(f"engines-{request.param}")
    if request.param == "local":
        settings = Settings.load(lake=str(root / "lake"), warehouse=f"duckdb:///{root / 'wh.duckdb'}")
    else:
        endpoint = request.getfixturevalue("s3_server")
        settings = Settings.load(lake="s3://newsflow-test/engines", s3_endpoint_url=endpoint,
                                 warehouse=f"duckdb:///{root / 'wh.duckdb'}")
    store = open_store(settings)
    _unpack_into(store)
    assert not migrate(store, publish_related=publish_related_lists).problems
    report = load_warehouse(settings, run_ts=datetime(2026, 1, 1, tzinfo=UTC), store=store)
    assert report.rows_loaded == 61 and not report.failures
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    yield store, con
    con.close()


def _reads(store, kind: str) -> dict[str, list[dict]]:
    """Every engine's rows of one table, as sorted JSON-able dicts (bookkeeping columns kept)."""
    d = engines.duckdb_read(store, kind)
    p = engines.polars_read(store, kind).to_arrow()
    a = engines.pyarrow_read(store, kind)
    ours = tables.read(store, kind)

    def norm(t: pa.Table) -> list[dict]:
        cols = sorted(t.column_names)
        return sorted((json.loads(json.dumps({c: r[c] for c in cols}, default=str, sort_keys=True))
                       for r in t.to_pylist()), key=lambda r: json.dumps(r, sort_keys=True))

    return {"duckdb": norm(d), "polars": norm(p), "pyarrow": norm(a), "newsflow": norm(ours)}


def _same_everywhere(store, kind: str) -> list[dict]:
    reads = _reads(store, kind)
    assert reads["newsflow"], kind
    for engine in ("duckdb", "polars", "pyarrow"):
        assert reads[engine] == reads["newsflow"], (kind, engine)
    return reads["duckdb"]


def test_articles_read_by_every_engine_equal_the_warehouse(loaded):
    store, con = loaded
    rows = _same_everywhere(store, "articles")
    assert {r["ingest_month"] for r in rows} == {"2026-11"}  # the partition column, in every engine
    latest: dict[str, dict] = {}
    for r in sorted(rows, key=lambda r: r["batch_id"]):
        latest[r["article_id"]] = r
    wh = con.execute("SELECT article_id, content_hash, title, batch_id, section, site_name, published_at_inferred, "
                     "anchors FROM articles").fetchall()
    assert len(wh) == len(latest) == 61
    for aid, h, title, batch, section, site, inferred, anchors in wh:
        r = latest[aid]
        assert (h, title, batch, section, site, inferred) == (r["content_hash"], r["title"], r["batch_id"],
                                                              r["section"], r["site_name"], r["published_at_inferred"])
        assert json.loads(anchors) == r["anchors"]


def test_dedup_tables_read_by_every_engine_equal_the_warehouse(loaded):
    store, con = loaded
    assert dedup_zone.latest_id(store) == EXPECTED["LATEST"]
    assign = {r["article_id"]: (r["story_id"], r["duplicate_of"], r["dup_kind"])
              for r in _same_everywhere(store, "dedup-assignments")}
    wh = {a: (s, d, k) for a, s, d, k in con.execute(
        "SELECT article_id, story_id, duplicate_of, dup_kind FROM articles").fetchall()}
    assert assign == wh
    edges = {(r["a"], r["b"], r["kind"]): r["score"] for r in _same_everywhere(store, "dedup-edges")}
    links = {(a, b, k): s for a, b, k, s in con.execute("SELECT a, b, kind, score FROM article_links").fetchall()}
    assert edges == links and edges
    # per-batch edges are the dedup stage's working state, not loaded: every engine agrees with our reader
    batch_edges = _same_everywhere(store, "dedup-batch-edges")
    ours = dedup_zone.read_batch_edges(store, [b.batch_id for b in list_batches(store, "articles")])
    assert sorted((e.a, e.b, e.kind) for e in ours) == sorted((r["a"], r["b"], r["kind"]) for r in batch_edges)
    aliases = _reads(store, "dedup-aliases")
    assert aliases["duckdb"] == aliases["polars"] == aliases["pyarrow"] == aliases["newsflow"]
    assert {(r["alias"], r["story_id"]) for r in aliases["duckdb"]} == set(
        con.execute("SELECT alias, story_id FROM story_aliases").fetchall())


def test_feed_tables_read_by_every_engine_equal_the_warehouse(loaded):
    store, con = loaded
    attempts = _same_everywhere(store, "fetch_attempts")
    wh = set(con.execute("SELECT batch_id, seq, url, outcome FROM fetch_attempts").fetchall())
    assert {(r["batch_id"], r["seq"], r["url"], r["outcome"]) for r in attempts} == wh and wh
    rejects = _same_everywhere(store, "rejects")
    latest: dict[tuple, dict] = {}
    for r in sorted(rejects, key=lambda r: r["run_ts"]):  # the warehouse keeps the latest run per key
        latest[(r["stage"], r["url"], r["reason"])] = r
    wh = {(s, u, r): d for s, u, r, d in con.execute("SELECT stage, url, reason, detail FROM rejects").fetchall()}
    assert wh == {k: v["detail"] for k, v in latest.items()} and wh


def test_duckdb_reads_a_consistent_snapshot_and_time_travel(loaded):
    """An outside reader sees committed versions only: a later commit changes what
    ``delta_scan`` returns as a whole, and the older version stays readable by number."""
    store, _ = loaded
    before = tables.version(store, "dedup-assignments")
    con = engines.duckdb_connection(store)
    uri = tables.table_uri(store, "dedup-assignments")
    n = con.execute(f"SELECT count(*) FROM delta_scan('{uri}')").fetchone()[0]
    older = tables.read(store, "dedup-assignments", version=0).num_rows
    assert n == 61 and older > 0
    assert before is not None and before >= 1


def test_related_lists_read_by_every_engine_equal_the_related_state(loaded):
    """The related stage publishes its lists as a table; the warehouse's related_articles
    comes from the same lists through the stage's own sink (not run in this fixture), so
    the comparison is with the state the stage keeps in the lake."""
    import pyarrow.parquet as pq

    from pipeline.related.state import latest_generation

    store, _ = loaded
    rows = _same_everywhere(store, "related-lists")
    state = pq.read_table(io.BytesIO(store.get(f"related/{latest_generation(store)}/lists.parquet"))).to_pylist()
    assert [(r["article_id"], r["related_id"], r["score"]) for r in state] == [
        (r["article_id"], r["related_id"], r["score"]) for r in sorted(rows, key=lambda r: (r["article_id"], r["rank"]))]
    assert {r["rank"] for r in rows} >= {1, 2}
