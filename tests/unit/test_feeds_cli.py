"""``newsflow feeds add|list|import|export|status|unpark`` and ``newsflow replay`` (CLI level)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.feeds.registry import load_feeds
from pipeline.feeds.schedule import record_failure, record_success
from pipeline.feeds.state import FeedState, load_state, save_state
from pipeline.lake.store import open_store

T = datetime(2025, 10, 1, tzinfo=UTC)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("NEWSFLOW_WAREHOUSE", f"duckdb:///{tmp_path / 'wh.duckdb'}")
    monkeypatch.delenv("NEWSFLOW_CONFIG", raising=False)
    return tmp_path


def test_add_import_export_round_trip(env, capsys):
    reg = env / "feeds.yaml"
    assert main(["feeds", "add", "https://a.example/rss", "--feeds", str(reg), "--name", "A", "--language", "ar"]) == 0
    assert main(["feeds", "add", "https://A.example/rss", "--feeds", str(reg)]) == 1  # duplicate
    assert main(["feeds", "add", "ftp://bad/", "--feeds", str(reg)]) == 2  # a clear error, no traceback
    opml = env / "more.opml"
    opml.write_text('<opml version="2.0"><body><outline text="News">'
                    '<outline xmlUrl="https://b.example/atom" title="B"/>'
                    '<outline xmlUrl="https://a.example/rss"/></outline></body></opml>')
    assert main(["feeds", "import", str(opml), "--feeds", str(reg)]) == 0
    assert [f.url for f in load_feeds(reg)] == ["https://a.example/rss", "https://b.example/atom"]
    out = env / "out.opml"
    assert main(["feeds", "export", "--feeds", str(reg), "--format", "opml", "-o", str(out)]) == 0
    assert load_feeds(out) == load_feeds(reg)
    capsys.readouterr()
    assert main(["feeds", "list", "--feeds", str(out)]) == 0
    assert "https://b.example/atom\tB" in capsys.readouterr().out


def test_status_shows_health_errors_and_parked(env, capsys):
    settings = Settings.load(park_after=1)
    store = open_store(settings)
    save_state(store, record_success(settings, FeedState("https://ok.example/rss"), T, status=200,
                                     headers={}, entries=3))
    save_state(store, record_failure(settings, FeedState("https://dead.example/rss"), T,
                                     reason="http_500", detail="HTTP 500", status=500))
    reg = env / "feeds.yaml"
    reg.write_text("feeds:\n- https://ok.example/rss\n- https://new.example/rss\n")
    assert main(["feeds", "status", "--feeds", str(reg)]) == 0
    out = capsys.readouterr().out
    assert "3 feeds: 1 parked, 1 new, 1 ok" in out
    assert "last error: http_500" in out and "parked (not polled" in out
    assert out.index("dead.example") < out.index("new.example") < out.index("ok.example")
    assert main(["feeds", "status", "--json", "--only", "parked"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["url"] for r in rows] == ["https://dead.example/rss"]
    assert main(["feeds", "unpark", "https://dead.example/rss"]) == 0
    assert not load_state(store, "https://dead.example/rss").parked


def test_replay_command_on_an_empty_lake(env, capsys):
    assert main(["replay", "--since", "2025-09-01", "-q"]) == 0
    assert "replayed feed bodies: 0" in capsys.readouterr().out
