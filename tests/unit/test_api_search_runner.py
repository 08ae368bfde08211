"""Where the API runs a search: on the worker's event loop, except on a replica, whose
search may first pull a newer index over the network and so runs on the search thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from pipeline.api import search_page as sp
from pipeline.config import Settings


def _ran_on(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[str, tuple]:
    seen: dict[str, str] = {}

    def fake(settings: Settings, **params):
        seen["thread"] = threading.current_thread().name
        if params["q"] == "boom":
            raise ValueError("the search's own error")
        return ("key", params["q"]), {"results": []}

    monkeypatch.setattr(sp, "search_page", fake)
    runner = sp.SearchRunner(settings)

    async def main() -> tuple[tuple, str]:
        loop_thread = threading.current_thread().name
        key, _ = await runner.page(q="harbour", lang=None, outlet=None, since=None, until=None, limit=10, offset=0)
        with pytest.raises(ValueError, match="own error"):
            await runner.page(q="boom", lang=None, outlet=None, since=None, until=None, limit=10, offset=0)
        return key, loop_thread

    try:
        key, loop_thread = asyncio.run(main())
    finally:
        runner.close()
    return ("loop" if seen["thread"] == loop_thread else seen["thread"]), key


def test_a_search_runs_on_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    where, key = _ran_on(Settings(), monkeypatch)
    assert where == "loop" and key == ("key", "harbour")


def test_a_replica_searches_on_its_search_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    where, key = _ran_on(Settings(search_replica=True), monkeypatch)
    assert where.startswith("newsflow-search") and key == ("key", "harbour")
