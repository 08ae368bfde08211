"""Editors correct the machine, end to end on a copy of the sample corpus's lake and
warehouse: the API and the CLI record corrections in the lake, dedup obeys them, a full
recomputation under other rules still obeys them, and the story page shows who and when."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime

import duckdb
import httpx
import pytest

from pipeline.config import Settings
from pipeline.lake.corrections import read_all
from pipeline.lake.store import open_store
from tests.integration.test_pages import Server

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RUN_TS = datetime(2025, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def copy(demo_warehouse, tmp_path_factory):
    root = tmp_path_factory.mktemp("corrections")
    shutil.copytree(demo_warehouse.lake, root / "lake")
    shutil.copy(demo_warehouse.duckdb_path, root / "wh.duckdb")
    return dataclasses.replace(demo_warehouse, lake=str(root / "lake"), warehouse=f"duckdb:///{root / 'wh.duckdb'}")


def _rows(settings: Settings, sql: str, *params) -> list[tuple]:
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _apply(settings: Settings) -> None:
    from pipeline.stages import dedup, load_warehouse

    dedup(settings, store=open_store(settings))
    load_warehouse(settings, run_ts=RUN_TS, store=open_store(settings))


def test_split_and_join_win_over_recomputation(copy, monkeypatch, capsys):
    seed = _rows(copy, "SELECT story_id FROM stories ORDER BY n_copies DESC, story_id LIMIT 1")[0][0]
    members = dict(_rows(copy, "SELECT source_domain, article_id FROM articles WHERE story_id = ?", seed))
    copy_id = members["harbortimes.example"]

    with Server(copy) as url:
        bad = httpx.post(f"{url}/stories/{seed}/corrections", json={"action": "split", "article_id": "0" * 16,
                                                                     "editor": "Rana"}, timeout=30)
        assert bad.status_code == 404 and "not in story" in bad.json()["detail"]
        nameless = httpx.post(f"{url}/stories/{seed}/corrections",
                              json={"action": "split", "article_id": copy_id, "editor": " "}, timeout=30)
        assert nameless.status_code == 422 and nameless.json()["errors"][0]["parameter"] == "editor"
        joinless = httpx.post(f"{url}/stories/{seed}/corrections",
                              json={"action": "join", "article_id": copy_id, "editor": "Rana"}, timeout=30)
        assert joinless.status_code == 422 and joinless.json()["errors"][0]["parameter"] == "target"
        same = httpx.post(f"{url}/stories/{seed}/corrections", timeout=30,
                          json={"action": "join", "article_id": copy_id, "target": seed, "editor": "Rana"})
        assert same.status_code == 409 and "already in story" in same.json()["detail"]
        r = httpx.post(f"{url}/stories/{seed}/corrections", timeout=30,
                       json={"action": "split", "article_id": copy_id, "editor": "Rana", "note": "another piece"})
        assert r.status_code == 202, r.text
        correction = r.json()["correction"]
        assert correction["action"] == "split" and correction["editor"] == "Rana"
        assert set(correction["others"]) == set(members.values()) - {copy_id}
    assert [c["correction_id"] for c in read_all(open_store(copy))] == [correction["correction_id"]]

    _apply(copy)
    story_of = dict(_rows(copy, "SELECT article_id, story_id FROM articles WHERE article_id IN (SELECT unnest(?))",
                          list(members.values())))
    assert story_of[copy_id] != story_of[members["gulfledger.example"]]
    assert len({story_of[a] for a in members.values() if a != copy_id}) == 1

    # every later recomputation obeys it: other match rules recompute every batch's edges
    _apply(dataclasses.replace(copy, near_jaccard=copy.near_jaccard - 0.01))
    assert _rows(copy, "SELECT story_id FROM articles WHERE article_id = ?", copy_id)[0][0] != \
        _rows(copy, "SELECT story_id FROM articles WHERE article_id = ?", members["gulfledger.example"])[0][0]

    with Server(copy) as url:
        page = httpx.get(f"{url}/stories/{seed}", headers={"Accept": "text/html"}, timeout=30).text
        assert "Editors' corrections" in page and "Rana" in page and "another piece" in page

    # the CLI joins it back, and that later correction wins
    from pipeline.cli import main

    monkeypatch.setenv("NEWSFLOW_LAKE", copy.lake)
    monkeypatch.setenv("NEWSFLOW_WAREHOUSE", copy.warehouse)
    assert main(["story", "join", copy_id, seed, "--by", "Omar", "--note", "same wire copy"]) == 0
    _apply(copy)
    assert _rows(copy, "SELECT story_id, dup_kind FROM articles WHERE article_id = ?", copy_id)[0] == (seed, "exact")
    capsys.readouterr()
    assert main(["story", "corrections", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records == read_all(open_store(copy))
    assert [c["action"] for c in records] == ["split", "join"] and records[1]["editor"] == "Omar"
    assert _rows(copy, "SELECT count(*) FROM story_corrections")[0][0] == 2
    assert main(["story", "split", "0123456789abcdef", "--by", "Omar"]) == 2  # unknown article: one line


def test_corrections_need_a_key_when_keys_are_on(copy):
    keyed = dataclasses.replace(copy, api_keys=("k-editor",))
    seed = _rows(copy, "SELECT story_id FROM stories ORDER BY n_copies DESC, story_id LIMIT 1")[0][0]
    with Server(keyed) as url:
        r = httpx.post(f"{url}/stories/{seed}/corrections", json={"action": "split"}, timeout=30)
        assert r.status_code == 401
