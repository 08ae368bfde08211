"""Issue 19, revisions, on local and S3 lakes with DuckDB and PostgreSQL: the sample corpus, then corrected, rewritten, retracted and trivially
re-served versions of some of its articles (the edits are ours: tests/integration/_revise.py).

Before issue 19 an entry already stored was skipped, so these corrections were ignored.
Now each real change is a new revision: the warehouse shows the current text, the older
one stays in the lake, ``article_revisions`` says what changed and when; a time stamp and
whitespace make no revision; a revision that turns an article into a copy of another story
moves it to that story.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.config import Settings
from pipeline.demo_server import DemoServer
from pipeline.extract.revisions import fingerprint
from pipeline.extract.urls import article_id_for, canonicalize_url
from pipeline.lake import tables
from pipeline.lake.store import open_store
from pipeline.run import run_pass
from tests.conftest import EXAMPLES, need
from tests.integration import _revise as rv

pytestmark = pytest.mark.integration
T0 = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)
GUIDS = {"correction": "gl-dhofar-tourism", "lead": "gl-jeddah-dengue", "retraction": "gl-sadeem-bank",
         "trivial": "gl-arabic-llm", "moved": "gl-pearl-museum", "target": "gl-desal"}


def _url(sites, guid: str) -> str:
    feed = (sites / rv.FEED).read_text(encoding="utf-8")
    a, b = rv._item(feed, f"gulfledger.example:{guid}")
    return re.search(r"<link>(.*?)</link>", feed[a:b]).group(1)


@pytest.fixture(scope="module", params=["local-duckdb", "local-postgres", "s3-duckdb"])
def world(request, tmp_path_factory):
    lake_kind, backend = request.param.split("-")
    root = tmp_path_factory.mktemp("revisions")
    lake = {"lake": str(root / "lake")} if lake_kind == "local" else {
        "lake": f"s3://newsflow-test/revisions-{root.name}", "s3_endpoint_url": request.getfixturevalue("s3_server")}
    sites = rv.copy_sites(root / "sites")
    ids = {k: article_id_for(canonicalize_url(_url(sites, g))) for k, g in GUIDS.items()}
    schema_cm = None
    if backend == "postgres":
        from bench.warehouse_synth import PG_URL, pg_schema, postgres_available

        need(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
        schema_cm = pg_schema()
        warehouse = {"warehouse": PG_URL, "warehouse_schema": schema_cm.__enter__()}
    else:
        warehouse = {"warehouse": f"duckdb:///{root / 'wh.duckdb'}"}
    try:
        with DemoServer(sites, port=0) as srv:
            settings = Settings.load(resolve=srv.resolve_setting, allow_private_networks=True, **lake, **warehouse)
            feeds = str(EXAMPLES / "feeds.yaml")
            first = run_pass(settings, feeds, run_ts=T0)
            before = {r["article_id"]: r["story_id"] for r in _rows(settings, "SELECT article_id, story_id FROM articles")}
            rv.revise_corpus(sites)
            # the museum article becomes a copy of the desalination article: another story
            rv.edit_item(sites, f"gulfledger.example:{GUIDS['moved']}",
                         lambda _c: rv.item_content(sites, f"gulfledger.example:{GUIDS['target']}"))
            second = run_pass(settings, feeds, run_ts=T0 + timedelta(hours=3))
            third = run_pass(settings, feeds, run_ts=T0 + timedelta(hours=6))
        yield settings, ids, before, first, second, third
    finally:
        if schema_cm is not None:
            schema_cm.__exit__(None, None, None)


def _rows(settings, sql: str) -> list[dict]:
    """Rows of a plain SELECT, on either backend."""
    from pipeline.warehouse.backend import open_backend

    with open_backend(settings, read_only=True) as be:
        cur = be._execute(sql, None)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_real_changes_are_new_revisions_and_trivial_ones_are_not(world):
    settings, ids, _before, _first, second, third = world
    assert second.ingest.revisions.revised == 4  # correction, lead, retraction, moved
    assert second.ingest.revisions.unchanged >= 1  # the time stamp + whitespace one
    assert third.ingest.revisions.revised == 0 and third.ingest.articles_new == 0  # seen: not looked at again
    cur = {r["article_id"]: r for r in _rows(settings, "SELECT article_id, revision, body_text FROM articles")}
    assert cur[ids["correction"]]["revision"] == 2 and rv.CORRECTION in cur[ids["correction"]]["body_text"]
    assert cur[ids["lead"]]["revision"] == 2 and cur[ids["lead"]]["body_text"].startswith(rv.NEW_LEAD)
    assert cur[ids["retraction"]]["revision"] == 2 and rv.RETRACTION.split(".")[0] in cur[ids["retraction"]]["body_text"]
    assert cur[ids["trivial"]]["revision"] == 1


def test_revisions_table_says_what_changed_and_when(world):
    settings, ids, *_ = world
    revs = _rows(settings, "SELECT * FROM article_revisions WHERE revision = 2")
    by = {r["article_id"]: r for r in revs}
    assert by[ids["correction"]]["kind"] == "correction"
    assert by[ids["retraction"]]["kind"] == "retraction"
    assert by[ids["lead"]]["kind"] == "update"
    for key in ("correction", "lead", "retraction"):
        r = by[ids[key]]
        assert "body_text" in r["changed_fields"]
        assert r["sentences_added"] >= 1 and 0 < r["similarity"] < 1
        assert r["observed_at"] == T0 + timedelta(hours=3)  # the fetch time in the data, not a clock
        assert r["previous_fingerprint"] and r["previous_fingerprint"] != r["content_fingerprint"]
        assert r["diff_excerpt"].count("\n+") + r["diff_excerpt"].startswith("+") >= 1
    assert by[ids["lead"]]["sentences_removed"] >= 1
    firsts = _rows(settings, "SELECT count(*) AS n FROM article_revisions WHERE revision = 1")[0]["n"]
    assert firsts == _rows(settings, "SELECT count(*) AS n FROM articles")[0]["n"]


def test_the_lake_keeps_every_version(world):
    settings, ids, *_ = world
    t = tables.read(open_store(settings), "articles", columns=["article_id", "revision", "body_text"])
    versions = [r for r in t.to_pylist() if r["article_id"] == ids["correction"]]
    assert sorted(v["revision"] or 1 for v in versions) == [1, 2]
    assert any(rv.CORRECTION not in v["body_text"] for v in versions)


def test_a_revision_that_changes_the_story_repoints_it(world):
    settings, ids, before, *_ = world
    assert before[ids["moved"]] != before[ids["target"]]
    now = {r["article_id"]: r for r in _rows(settings, "SELECT article_id, story_id, duplicate_of FROM articles")}
    assert now[ids["moved"]]["story_id"] == now[ids["target"]]["story_id"]
    # and the correction note did not move its article out of its story
    assert now[ids["correction"]]["story_id"] == before[ids["correction"]]


def test_fingerprint_ignores_whitespace_tracking_parameters_and_time_stamps():
    body = "The plant opened on Wednesday. Read more at https://example.org/a?id=1"
    same = ("Updated 14:05 GMT\n  The   plant opened on Wednesday.\n"
            "Read more at https://example.org/a?utm_source=x&id=1")
    assert fingerprint("Title", body) == fingerprint("Title ", same)
    assert fingerprint("Title", body) != fingerprint("Title", body.replace("Wednesday", "Thursday"))
