"""Issue 19, takedowns: plant an article in the sample corpus, run the pipeline, take it
down, then search every store byte for byte for distinctive strings of its text and find
nothing; run the pipeline again (the feed still serves it) and find nothing again.

On a local lake and on the S3 test server, with DuckDB and with PostgreSQL.  What "every
store" covers (docs/operations.md): every object of the lake (raw bodies gunzipped, every
Parquet file of every Delta snapshot and ``_delta_log`` JSON and checkpoints, decoded as
well as raw, dedup index and related state), the DuckDB file and its WAL as bytes plus
every row of every table through SQL, PostgreSQL every row of every table of the schema
through SQL (not its disk pages, see the docs), the search index, the API snapshot.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.demo_server import DemoServer
from pipeline.extract.urls import article_id_for, canonicalize_url
from pipeline.lake import tombstones
from pipeline.lake.store import open_store
from pipeline.run import run_pass
from pipeline.takedown import take_down
from tests.conftest import EXAMPLES, need
from tests.integration import _revise as rv

pytestmark = pytest.mark.integration
T0 = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)
NEEDLES = [s.encode("utf-8") for s in rv.DISTINCTIVE]
PLANTED_ID = article_id_for(canonicalize_url(rv.PLANTED_URL))


def _decoded(key: str, data: bytes) -> list[bytes]:
    """The object's bytes and what they decode to (gunzipped, Parquet values as JSON)."""
    out = [data]
    if key.endswith(".gz"):
        out.append(gzip.decompress(data))
    if key.endswith(".parquet"):
        t = pq.read_table(io.BytesIO(data))
        out.append(json.dumps(t.to_pylist(), default=str, ensure_ascii=False).encode("utf-8"))
    return out


def lake_hits(settings: Settings) -> list[str]:
    """Every lake object (listed raw from the storage, not through newsflow's readers)."""
    hits = []
    if settings.lake.startswith("s3://"):
        import boto3

        bucket, _, prefix = settings.lake.removeprefix("s3://").partition("/")
        s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1")
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                for o in page.get("Contents", [])]
        objects = ((k, s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys)
    else:
        root = Path(settings.lake)
        objects = ((str(p), p.read_bytes()) for p in root.rglob("*") if p.is_file())
    for key, data in objects:
        for blob in _decoded(key, data):
            hits += [f"{key}: {n.decode()}" for n in NEEDLES if n in blob]
    return sorted(set(hits))


def warehouse_hits(settings: Settings) -> list[str]:
    hits = []
    if settings.warehouse.startswith("duckdb"):
        import duckdb

        # raw bytes: the log and uncompressed segments; article text in segments is zstd since
        # migration 018, and that freed blocks go with the rewrite is pinned by
        # tests/integration/test_warehouse_compact.py (text stored uncompressed there)
        for path in (settings.duckdb_path, settings.duckdb_path + ".wal"):
            if os.path.exists(path):
                data = Path(path).read_bytes()
                hits += [f"{path} bytes: {n.decode()}" for n in NEEDLES if n in data]
        con = duckdb.connect(settings.duckdb_path, read_only=True)
        try:
            names = [r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
            for name in names:
                text = json.dumps(con.execute(f'SELECT * FROM "{name}"').fetchall(), default=str,
                                  ensure_ascii=False).encode()
                hits += [f"duckdb {name}: {n.decode()}" for n in NEEDLES if n in text]
        finally:
            con.close()
        return hits
    import psycopg

    with psycopg.connect(settings.warehouse) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            [settings.warehouse_schema]).fetchall()]
        for name in names:
            rows = con.execute(f'SELECT t::text FROM "{settings.warehouse_schema}"."{name}" t').fetchall()
            text = "\n".join(r[0] for r in rows).encode("utf-8")
            hits += [f"postgres {name}: {n.decode()}" for n in NEEDLES if n in text]
    return hits


@pytest.fixture(params=["local-duckdb", "local-postgres", "s3-duckdb", "s3-postgres"])
def world(request, tmp_path):
    lake_kind, backend = request.param.split("-")
    sites = rv.copy_sites(tmp_path / "sites")
    rv.plant(sites)
    extra: dict = {}
    if lake_kind == "s3":
        extra = {"lake": f"s3://newsflow-test/takedown-{tmp_path.name}",
                 "s3_endpoint_url": request.getfixturevalue("s3_server")}
    else:
        extra = {"lake": str(tmp_path / "lake")}
    schema_cm = None
    if backend == "postgres":
        from bench.warehouse_synth import PG_URL, pg_schema, postgres_available

        need(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
        schema_cm = pg_schema()
        extra |= {"warehouse": PG_URL, "warehouse_schema": schema_cm.__enter__()}
    else:
        extra |= {"warehouse": f"duckdb:///{tmp_path / 'wh.duckdb'}"}
    with DemoServer(sites, port=0) as srv:
        settings = Settings.load(resolve=srv.resolve_setting, allow_private_networks=True, **extra)
        yield settings
    if schema_cm is not None:
        schema_cm.__exit__(None, None, None)


def test_a_takedown_leaves_no_byte_of_the_article_and_a_rerun_does_not_bring_it_back(world):
    settings = world
    feeds = str(EXAMPLES / "feeds.yaml")
    run_pass(settings, feeds, run_ts=T0)
    run_pass(settings, feeds, run_ts=T0 + timedelta(hours=1))  # older snapshots, more files
    stories = _stories(settings)
    assert PLANTED_ID in stories
    served_version = _served(settings)
    before = lake_hits(settings)
    assert any("raw/" in h for h in before) and any("tables/articles" in h for h in before)
    assert warehouse_hits(settings)  # the warehouse holds it (rows)
    assert all(index_terms(settings).values())  # the search index holds its words

    stone = take_down(settings, rv.PLANTED_URL, reason="court order 2025/114 (test)", by="legal@example",
                      requested_at=T0 + timedelta(hours=2))
    assert stone.article_id == PLANTED_ID and stone.requested_at == "2025-09-30T14:00:00+00:00"
    assert lake_hits(settings) == []
    assert warehouse_hits(settings) == []
    assert index_terms(settings) == dict.fromkeys(index_terms(settings), 0)
    _nothing_served(settings)
    assert _served(settings, present=False) != served_version  # the API's snapshot and caches refresh

    # the feed still serves the item: a forced rerun (unconditional GETs, every entry looked
    # at again) refuses it, counted
    again = run_pass(settings, feeds, run_ts=T0 + timedelta(hours=5), force=True)
    assert again.ingest.rejects_by_reason.get(f"feed:{tombstones.REASON}") == 1
    assert lake_hits(settings) == []
    assert warehouse_hits(settings) == []
    assert not any(index_terms(settings).values())
    _nothing_served(settings)
    # dedup re-clustered without it; every other article keeps its story
    after = _stories(settings)
    assert after == {a: s for a, s in stories.items() if a != PLANTED_ID}
    listed = tombstones.read_all(open_store(settings))
    assert [(t.article_id, t.requested_by, bool(t.purged)) for t in listed] == [(PLANTED_ID, "legal@example", True)]


def index_terms(settings: Settings) -> dict[str, int]:
    """Documents of the search index holding each analysed word of the distinctive strings.
    tantivy's ``doc_freq`` counts deleted documents until their segment is merged, so 0
    means no segment keeps the word (the byte-level proof; segment files hold terms in a
    compressed FST, where a substring search proves nothing)."""
    from pipeline.search.analysis import analyze
    from pipeline.search.index import _open_tantivy
    from pipeline.search.sync import index_path

    searcher = _open_tantivy(index_path(settings), create=False).searcher()
    words = {w for text in rv.DISTINCTIVE for w in analyze(text, "en").split()}
    return {w: searcher.doc_freq("t_en", w) for w in sorted(words)}


def _stories(settings: Settings) -> dict[str, str]:
    from pipeline.warehouse.backend import open_backend

    with open_backend(settings, read_only=True) as be:
        return dict(be._execute("SELECT article_id, story_id FROM articles").fetchall())


def _served(settings: Settings, present: bool = True) -> str:
    """The API's version token (a change rebuilds its snapshot and clears its response
    cache: new bodies, new ETags); the snapshot holds the article or not."""
    from pipeline.api.snapshot import Snapshot, read_version
    from pipeline.warehouse.backend import open_backend

    assert (PLANTED_ID in Snapshot.load(settings).ids) is present
    with open_backend(settings, read_only=True) as be:
        return read_version(be)[0]


def _nothing_served(settings: Settings) -> None:
    from pipeline.api.snapshot import Snapshot
    from pipeline.warehouse.backend import open_backend
    from pipeline.warehouse.queries import search

    assert search(settings, "xanthoquill glassblowers", limit=5) == []
    snap = Snapshot.load(settings)
    assert PLANTED_ID not in snap.ids
    assert all(PLANTED_ID not in (snap.related_json(a, 20, None) or b"").decode() for a in snap.ids[:80])
    with open_backend(settings, read_only=True) as be:
        rows = be.query("takedown_list")
    assert [r["article_id"] for r in rows] == [PLANTED_ID]


def test_cli_takedown_list_and_errors(tmp_path, capsys):
    from pipeline.cli import main

    lake, wh = str(tmp_path / "lake"), f"duckdb:///{tmp_path / 'wh.duckdb'}"
    os.environ["NEWSFLOW_LAKE"], os.environ["NEWSFLOW_WAREHOUSE"] = lake, wh
    try:
        assert main(["takedown", rv.PLANTED_URL]) == 2
        assert "--reason" in capsys.readouterr().err
        assert main(["takedown", "0123456789abcdef", "--reason", "x"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "give its URL" in err
        # a URL not fetched yet can be blocked in advance
        assert main(["takedown", rv.PLANTED_URL, "--reason", "publisher request", "--by", "ops"]) == 0
        capsys.readouterr()
        assert main(["takedown", "list"]) == 0
        out = capsys.readouterr().out
        assert PLANTED_ID in out and "ops: publisher request" in out
    finally:
        del os.environ["NEWSFLOW_LAKE"], os.environ["NEWSFLOW_WAREHOUSE"]
