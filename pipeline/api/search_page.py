"""One page of ``GET /search``: what the FastAPI route and the fast path both answer with.

Why searches run on one thread per worker (:class:`SearchRunner`): a search is a few
milliseconds of CPU, part of it in the engine (which releases the GIL) and part in Python.
Run on the default thread pool, 16 concurrent searches in a worker share the GIL and all
finish late together; one at a time, in arrival order, each waits only for those ahead of it.
At a million articles with 32 clients this took the p99 from 188 to 130 ms at the same
throughput (``bench/api_bench.py``'s search phase, 2 workers).  On the event loop itself
searches ran 12-28 % faster in a search-only load (docs/warehouse.md), but a search of a
common word (5 ms in the engine) would then hold every related answer of the worker, and the
website asks for related lists far more often than it searches: the thread stays.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from pipeline.config import Settings
from pipeline.warehouse.queries import search

log = logging.getLogger(__name__)

SEARCH_MAX_OFFSET = 899  # offset + limit + 1 stays within the warehouse's 1,000-hit ceiling
SEARCH_MAX_LIMIT = 100
Q_MAX_CHARS = 2000
OUTLET_PATTERN = r"[A-Za-z0-9.-]+"
OUTLET_MAX_CHARS = 253


def _utc(value: datetime | None) -> datetime | None:
    """A naive date-time as UTC (the CLI's rule for ``--since``/``--until``)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def search_page(settings: Settings, q: str, lang: str | None, outlet: str | None, since: datetime | None,
                until: datetime | None, limit: int, offset: int) -> tuple[tuple, dict[str, Any]]:
    """(response-cache key, JSON body) of one page of results.  Raises the search's own
    errors (``SearchError``: 422; ``WarehouseUnavailable``, ``SearchIndexError``: 503)."""
    hits = search(settings, q, language=lang, outlet=outlet, since=_utc(since), until=_utc(until),
                  limit=offset + limit + 1)  # one more: is there a next page?
    results = [{"article_id": h.article_id, "title": h.title, "url": h.url, "source_domain": h.source_domain,
                "language": h.language, "published_at": h.published_at.isoformat() if h.published_at else None,
                "story_id": h.story_id, "score": round(float(h.score), 6), "snippet": h.snippet}
               for h in hits[offset:offset + limit]]
    more = len(hits) > offset + limit
    key = ("search", q, lang, outlet, since, until, limit, offset, tuple(r["article_id"] for r in results))
    return key, {"query": q, "offset": offset, "limit": limit, "results": results,
                 "next_offset": offset + limit if more else None}


class SearchRunner:
    """The worker's search thread (see the module docstring)."""

    def __init__(self, settings: Settings, threads: int = 1) -> None:
        self.settings = settings
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="newsflow-search")

    def warm(self) -> None:
        """Open the index (and pull it, on a replica) before the first request: the first
        search opened it, about half a second at a million articles, with every search of
        the worker queued behind it.  Best effort: a missing index is the first search's
        error, with its fix."""
        try:
            search(self.settings, "newsflow", limit=1)
        except Exception as exc:  # noqa: BLE001 - reported by the first search, with its fix
            log.debug("search warm-up: %s", exc)

    async def page(self, **params: Any) -> tuple[tuple, dict[str, Any]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, functools.partial(search_page, self.settings, **params))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
