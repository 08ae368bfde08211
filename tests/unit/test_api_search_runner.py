"""Where the API runs a search: on the worker's one search thread, in arrival order, never
on the event loop (a search of a common word would hold every related answer); and the
index is opened before the first request."""

from __future__ import annotations

import asyncio
import threading

import pytest

from pipeline.api import search_page as sp
from pipeline.config import Settings


def test_searches_run_on_the_search_thread_and_raise_their_own_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def fake(settings: Settings, **params):
        seen.append(threading.current_thread().name)
        if params["q"] == "boom":
            raise ValueError("the search's own error")
        return ("key", params["q"]), {"results": []}

    monkeypatch.setattr(sp, "search_page", fake)
    runner = sp.SearchRunner(Settings())
    params = dict(lang=None, outlet=None, since=None, until=None, limit=10, offset=0)

    async def main() -> tuple:
        key, _ = await runner.page(q="harbour", **params)
        with pytest.raises(ValueError, match="own error"):
            await runner.page(q="boom", **params)
        return key

    try:
        assert asyncio.run(main()) == ("key", "harbour")
    finally:
        runner.close()
    assert len(seen) == 2 and all(name.startswith("newsflow-search") for name in seen)


def test_warm_up_searches_once_and_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []

    def fake_search(settings: Settings, query: str, **kw):
        calls.append((settings, query, kw))
        raise RuntimeError("no index yet")

    monkeypatch.setattr(sp, "search", fake_search)
    settings = Settings()
    runner = sp.SearchRunner(settings)
    try:
        runner.warm()  # a missing index is the first real search's error, not start-up's
    finally:
        runner.close()
    assert calls == [(settings, "newsflow", {"limit": 1})]
