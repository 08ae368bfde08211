"""Issue 19, revisions: the sample corpus, then corrected, rewritten, retracted and trivially
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

import duckdb
import pytest

from pipeline.config import Settings
from pipeline.demo_server import DemoServer
from pipeline.extract.revisions import fingerprint
from pipeline.extract.urls import article_id_for, canonicalize_url
from pipeline.lake import tables
from pipeline.lake.store import open_store
from pipeline.run import run_pass
from tests.conftest import EXAMPLES
from tests.integration import _revise as rv

pytestmark = pytest.mark.integration
T0 = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)
GUIDS = {"correction": "gl-dhofar-tourism", "lead": "gl-jeddah-dengue", "retraction": "gl-sadeem-bank",
         "trivial": "gl-arabic-llm", "moved": "gl-pearl-museum", "target": "gl-desal"}


def _url(sites, guid: str) -> str:
    feed = (sites / rv.FEED).read_text(encoding="utf-8")
    a, b = rv._item(feed, f"gulfledger.example:{guid}")
    return re.search(r"<link>(.*?)</link>", feed[a:b]).group(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("revisions")
    sites = rv.copy_sites(root / "sites")
    ids = {k: article_id_for(canonicalize_url(_url(sites, g))) for k, g in GUIDS.items()}
    with DemoServer(sites, port=0) as srv:
        settings = Settings.load(lake=str(root / "lake"), warehouse=f"duckdb:///{root / 'wh.duckdb'}",
                                 resolve=srv.resolve_setting, allow_private_networks=True)
        feeds = str(EXAMPLES / "feeds.yaml")
        first = run_pass(settings, feeds, run_ts=T0)
        con = duckdb.connect(settings.duckdb_path, read_only=True)
        before = dict(con.execute("SELECT article_id, story_id FROM articles").fetchall())
        con.close()
        rv.revise_corpus(sites)
        # the museum article becomes a copy of the desalination article: another story
        rv.edit_item(sites, f"gulfledger.example:{GUIDS['moved']}",
                     lambda _c: rv.item_content(sites, f"gulfledger.example:{GUIDS['target']}"))
        second = run_pass(settings, feeds, run_ts=T0 + timedelta(hours=3))
        third = run_pass(settings, feeds, run_ts=T0 + timedelta(hours=6))
    return settings, ids, before, first, second, third


def _rows(settings, sql: str, params=()):
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    try:
        cur = con.execute(sql, params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


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
