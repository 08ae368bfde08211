"""One page of ``GET /search``: what the FastAPI route and the fast path both answer with.

Where a search runs (:class:`SearchRunner`): a search is a few milliseconds of CPU, part
of it in the engine (which releases the GIL) and part in Python, and reads nothing but the
local index (hits carry their rows; the API never expands stories).  So it runs on the
worker's event loop, one at a time in arrival order: each waits only for those ahead of
it, with no hand-off to a thread and back.  On a replica a search may first pull a newer
index from the object store (:func:`pipeline.search.publish.maybe_pull`), a network
transfer that must not stall the loop: there searches run on one thread per worker
instead.  (On the default thread pool, 16 concurrent searches in a worker shared the GIL
and all finished late together: p99 188 against 130 ms on one thread.)  Measured at a
million articles with 32 clients (``bench/api_bench.py --search-only``, 2 workers): see
docs/related.md.
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
    """Runs a worker's searches: on its event loop, or on one thread on a replica (see the
    module docstring)."""

    def __init__(self, settings: Settings, threads: int = 1) -> None:
        self.settings = settings
        self.pool = (ThreadPoolExecutor(threads, thread_name_prefix="newsflow-search")
                     if settings.search_replica else None)

    def warm(self) -> None:
        """Open the index (and pull it, on a replica) before the first request: on the loop,
        the first search's open held every connection of the worker for up to half a second
        at a million articles.  Best effort: a missing index is the first search's error."""
        try:
            search(self.settings, "newsflow", limit=1)
        except Exception as exc:  # noqa: BLE001 - reported by the first search, with its fix
            log.debug("search warm-up: %s", exc)

    async def page(self, **params: Any) -> tuple[tuple, dict[str, Any]]:
        if self.pool is None:
            return search_page(self.settings, **params)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, functools.partial(search_page, self.settings, **params))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
