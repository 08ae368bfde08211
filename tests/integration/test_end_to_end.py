"""The whole pass on the sample corpus, checked against examples/expected.yaml."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import duckdb
import httpx
import pytest
import yaml

from pipeline.config import Settings
from pipeline.extract.urls import article_id_for
from pipeline.run import run_pass
from tests.conftest import EXAMPLES, free_port

EXPECTED = yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))
RUN_TS = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)


def aid(url: str) -> str:
    return article_id_for(url)


@pytest.fixture(scope="module")
def passes(demo_site, tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    settings = Settings.load(
        lake=str(root / "lake"),
        warehouse=f"duckdb:///{root / 'wh.duckdb'}",
        resolve=demo_site.resolve_setting,
        allow_private_networks=True,
    )
    first = run_pass(settings, str(EXAMPLES / "feeds.yaml"), run_ts=RUN_TS)
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    snapshot = con.execute("SELECT article_id, story_id, duplicate_of, dup_kind FROM articles ORDER BY 1").fetchall()
    con.close()
    second = run_pass(settings, str(EXAMPLES / "feeds.yaml"), run_ts=datetime(2025, 9, 30, 13, 0, tzinfo=UTC))
    return settings, first, second, snapshot


@pytest.fixture(scope="module")
def rows(passes):
    settings = passes[0]
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    cur = con.execute("SELECT * FROM articles")
    cols = [c[0] for c in cur.description]
    out = {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
    con.close()
    return out


def test_every_expected_article_is_stored_once(rows):
    expected = {aid(a["url"]) for a in EXPECTED["articles"]}
    missing = sorted(a["url"] for a in EXPECTED["articles"] if aid(a["url"]) not in rows)
    assert missing == []
    extra = sorted(r["canonical_url"] for k, r in rows.items() if k not in expected)
    assert extra == []


def test_languages_and_outlets(rows):
    wrong = [(a["url"], rows[aid(a["url"])]["language"]) for a in EXPECTED["articles"] if rows[aid(a["url"])]["language"] != a["language"]]
    assert wrong == []
    assert {r["source_domain"] for r in rows.values()} == set(EXPECTED["outlets"])


def test_no_chrome_in_body_text(rows):
    chrome = ["255 characters left", "متبقي 255 حرف", "255 حرف متبقي", "Share on", "شارك:",
              "All rights reserved", "جميع الحقوق محفوظة", "Subscribe", "اشترك في"]
    leaks = [(r["canonical_url"], c) for r in rows.values() for c in chrome if c in (r["body_text"] or "")]
    assert leaks == []


def test_stories_match_the_answer_key(rows):
    problems = []
    in_story = set()
    for story in EXPECTED["stories"]:
        original = aid(story["original"])
        in_story.add(original)
        sid = rows[original]["story_id"]
        if rows[original]["duplicate_of"] is not None:
            problems.append(f"{story['key']}: original {story['original']} is marked duplicate_of {rows[original]['duplicate_of']}")
        for copy in story["copies"]:
            c = rows[aid(copy["url"])]
            in_story.add(c["article_id"])
            if c["story_id"] != sid:
                problems.append(f"{story['key']}: {copy['url']} not in the story")
            elif c["duplicate_of"] != original or c["dup_kind"] != copy["kind"]:
                problems.append(f"{story['key']}: {copy['url']} dup_of={c['duplicate_of']} kind={c['dup_kind']} (want {copy['kind']})")
        members = {k for k, r in rows.items() if r["story_id"] == sid}
        expected_members = {original} | {aid(c["url"]) for c in story["copies"]}
        if members != expected_members:
            problems.append(f"{story['key']}: unexpected members {sorted(rows[m]['canonical_url'] for m in members - expected_members)}")
    for k, r in rows.items():
        if k not in in_story and (r["duplicate_of"] is not None or r["story_id"] != f"s_{k}"):
            problems.append(f"singleton {r['canonical_url']} merged into {r['story_id']}")
    assert problems == []


def test_no_hard_negative_is_merged(rows):
    merged = [(n["a"], n["b"]) for n in EXPECTED["hard_negatives"] if rows[aid(n["a"])]["story_id"] == rows[aid(n["b"])]["story_id"]]
    assert merged == []


def test_broken_input_is_rejected_with_a_counted_reason(passes):
    _, first, _, _ = passes
    got = {(r.url, r.stage, r.reason) for r in first.ingest.rejects}
    missing = [r for r in EXPECTED["rejects"] if (r["url"], r["stage"], r["reason"]) not in got]
    assert missing == []
    assert first.ingest.feeds_failed == sum(1 for r in EXPECTED["rejects"] if r["stage"] in ("fetch", "parse"))
    assert first.ingest.articles_new == len(EXPECTED["articles"])


def test_undated_entries_are_kept_and_flagged(rows):
    for url in EXPECTED.get("undated") or []:
        r = rows[aid(url)]
        assert r["published_at_source"] == "fetched"


def test_rerun_adds_nothing_and_changes_no_story(passes):
    settings, _, second, snapshot = passes
    assert second.ingest.articles_new == 0
    assert second.ingest.batch_id is None
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    after = con.execute("SELECT article_id, story_id, duplicate_of, dup_kind FROM articles ORDER BY 1").fetchall()
    con.close()
    assert after == snapshot


def test_related_never_offers_the_same_story(passes, rows):
    settings = passes[0]
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    leaks = con.execute(
        "SELECT count(*) FROM related_articles r JOIN articles a ON a.article_id = r.article_id "
        "JOIN articles b ON b.article_id = r.related_id WHERE a.story_id = b.story_id"
    ).fetchone()[0]
    n = con.execute("SELECT count(*) FROM related_articles").fetchone()[0]
    con.close()
    assert leaks == 0
    assert n > 0


def test_search_finds_arabic_and_english(passes):
    from pipeline.warehouse.queries import search

    settings = passes[0]
    title_en = next(a["title"] for a in EXPECTED["articles"] if a["language"] == "en")
    title_ar = next(a["title"] for a in EXPECTED["articles"] if a["language"] == "ar")
    for title in (title_en, title_ar):
        hits = search(settings, title, limit=5)
        assert hits and any(h.title == title for h in hits), title
    for nasty in ['"unbalanced', "a' OR 1=1 --", "\u200f\u202bعربي", "x" * 10_000, "*", ""]:
        search(settings, nasty)  # results or nothing, never an error


def test_http_api_serves_related_lists(passes):
    import uvicorn

    from pipeline.api.app import create_app

    settings = passes[0]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        story = EXPECTED["stories"][0]
        original = aid(story["original"])
        translation = next((c for c in story["copies"] if c["kind"] == "translation"), None)
        body = httpx.get(f"{base}/articles/{original}/related", params={"k": 5}).json()
        assert body["article_id"] == original
        assert 0 < len(body["related"]) <= 5
        assert set(body["related"][0]) == {"article_id", "title", "url", "source_domain", "language", "published_at", "score"}
        copies = {aid(c["url"]) for c in story["copies"]}
        assert not copies & {r["article_id"] for r in body["related"]}
        if translation:
            tid = aid(translation["url"])
            ar = httpx.get(f"{base}/articles/{tid}/related", params={"k": 5}).json()["related"]
            assert ar[0]["language"] == "ar"
            assert original not in {r["article_id"] for r in ar}
        assert httpx.get(f"{base}/articles/nope/related").status_code == 404
        assert httpx.get(f"{base}/articles/{original}/related", params={"k": 0}).status_code == 422
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def test_cli_commands_on_the_demo_warehouse(passes, monkeypatch, capsys):
    from pipeline.cli import main

    settings = passes[0]
    monkeypatch.setenv("NEWSFLOW_LAKE", settings.lake)
    monkeypatch.setenv("NEWSFLOW_WAREHOUSE", settings.warehouse)
    story = next(s for s in EXPECTED["stories"] if any(c["kind"] == "translation" for c in s["copies"]))
    translation = next(c["url"] for c in story["copies"] if c["kind"] == "translation")

    assert main(["search", "desalination", "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert " 1. [en]" in out and "desalination" in out.lower()

    assert main(["related", story["original"], "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("related to [") and " 1. [" in out

    assert main(["dedup", "explain", story["original"], translation]) == 0
    explained = capsys.readouterr().out
    assert '"duplicate": true' in explained and '"kind": "translation"' in explained

    assert main(["related", "0000000000000000"]) == 2


def test_an_analyst_opens_the_warehouse_with_plain_duckdb(passes):
    """No newsflow code, no extension: the documented tables and views answer."""
    con = duckdb.connect(passes[0].duckdb_path, read_only=True)
    translations = con.execute("SELECT count(*) FROM v_translations").fetchone()[0]
    expected = sum(1 for s in EXPECTED["stories"] for c in s["copies"] if c["kind"] == "translation")
    assert translations == expected
    biggest = con.execute("SELECT n_copies, languages FROM stories ORDER BY n_copies DESC LIMIT 1").fetchone()
    assert biggest[0] == max(1 + len(s["copies"]) for s in EXPECTED["stories"])
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] == len(EXPECTED["rejects"])
    con.close()
