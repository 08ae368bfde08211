"""The hot paths of the API: valid ``GET /articles/{id}/related`` and ``GET /search``
answered in plain ASGI.

Why: the website calls related for every page view and search for every query box, and at
concurrency 32 on 2 cores FastAPI's per-request machinery (routing, dependency resolution,
validation models, Response objects) costs more than a related answer itself, and a fifth
of a search's CPU.  This layer answers only
requests it can answer *exactly* as the FastAPI route would (same validation rules, same
bytes, same headers, same ETag/304 behaviour, same response cache); anything else (a bad
parameter, an unknown id, another path or method) falls through to FastAPI, which stays
the single source of error messages and of the OpenAPI description.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from pipeline.api.mapped import MappedSnapshot
from pipeline.api.search_page import (
    OUTLET_MAX_CHARS,
    OUTLET_PATTERN,
    Q_MAX_CHARS,
    SEARCH_MAX_LIMIT,
    SEARCH_MAX_OFFSET,
)

# The route's validation rules, shared with pipeline/api/app.py so the two cannot drift.
ID_PATTERN = r"[A-Za-z0-9_.:-]{1,128}"
LANG_PATTERN = r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?"
K_DEFAULT, K_MAX = 10, 50
PREFIX, SUFFIX = "/articles/", "/related"
ID_RE, LANG_RE = re.compile(ID_PATTERN), re.compile(LANG_PATTERN)


def _params(scope: dict) -> dict[str, str] | None:
    """The query parameters as Starlette reads them; None when a name repeats (FastAPI's
    rules decide those)."""
    query = scope.get("query_string", b"")
    params = parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else []
    out = dict(params)
    return out if len(out) == len(params) else None


def _bounded(value: str | None, default: int, lo: int, hi: int) -> int | None:
    if value is None:
        return default
    return int(value) if value.isascii() and value.isdigit() and lo <= int(value) <= hi else None


def parse_related(scope: dict) -> tuple[str, int, str | None] | None:
    """(article id, k, lang) of a valid related request, or None to let FastAPI answer."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path = scope["path"]
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    article_id = path[len(PREFIX) : -len(SUFFIX)]
    if not ID_RE.fullmatch(article_id):
        return None
    params = _params(scope)
    if params is None:
        return None
    k, lang = _bounded(params.get("k"), K_DEFAULT, 1, K_MAX), params.get("lang")
    if k is None or (lang is not None and not LANG_RE.fullmatch(lang)):
        return None
    return article_id, k, lang


OUTLET_RE, DAY_RE = re.compile(OUTLET_PATTERN), re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_search(scope: dict, languages: tuple[str, ...]) -> dict[str, Any] | None:
    """The parameters of a valid search request, as the route receives them, or None to
    let FastAPI answer.  Dates only as a plain ``YYYY-MM-DD`` (a naive midnight, as pydantic
    reads it); any other form goes to the route."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != "/search":
        return None
    params = _params(scope)
    if params is None:
        return None
    q, lang, outlet = params.get("q"), params.get("lang"), params.get("outlet")
    if q is None or not 1 <= len(q) <= Q_MAX_CHARS or (lang is not None and lang not in languages):
        return None
    if outlet is not None and not (len(outlet) <= OUTLET_MAX_CHARS and OUTLET_RE.fullmatch(outlet)):
        return None
    out: dict[str, Any] = {"q": q, "lang": lang, "outlet": outlet}
    for name in ("since", "until"):
        value = params.get(name)
        if value is not None and not DAY_RE.fullmatch(value):
            return None
        try:
            out[name] = datetime.strptime(value, "%Y-%m-%d") if value is not None else None
        except ValueError:  # 2026-02-30: the route's 422
            return None
    out["limit"] = _bounded(params.get("limit"), 10, 1, SEARCH_MAX_LIMIT)
    out["offset"] = _bounded(params.get("offset"), 0, 0, SEARCH_MAX_OFFSET)
    return None if out["limit"] is None or out["offset"] is None else out


class FastPath:
    """ASGI middleware in front of the FastAPI app (inside the API-key check)."""

    def __init__(self, app: Any, holder: Any, languages: tuple[str, ...]) -> None:
        self.app, self.holder, self.languages = app, holder, languages

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        parsed = parse_related(scope)
        holder = self.holder
        if parsed is None:
            found = parse_search(scope, self.languages)
            if found is None or not await self._search(found, scope, send):
                await self.app(scope, receive, send)  # not ours, or an error the route words
            return
        if holder.snapshot is None:  # not loaded yet (FastAPI: 503)
            await self.app(scope, receive, send)
            return
        article_id, k, lang = parsed
        snap: MappedSnapshot = await holder.current()  # also schedules the background freshness check
        key = ("related", snap.version, article_id, k, lang)
        hit = holder.cache.get(key)
        if hit is None:
            body = snap.related_json(article_id, k, lang)
            if body is None:  # unknown id: FastAPI writes the 404
                await self.app(scope, receive, send)
                return
            hit = holder.remember(key, body)
        await self._send(scope, send, *hit)

    async def _search(self, params: dict[str, Any], scope: dict, send: Any) -> bool:
        """Answer a search; False when it failed with an error the route puts in words."""
        from pipeline.search.index import SearchIndexError
        from pipeline.warehouse.queries import SearchError, WarehouseUnavailable

        try:
            key, page = await self.holder.searches.page(**params)
        except (SearchError, WarehouseUnavailable, SearchIndexError):
            return False
        await self._send(scope, send, *self.holder.answer(key, lambda: page))
        return True

    async def _send(self, scope: dict, send: Any, etag: str, body: bytes) -> None:
        headers = [(b"etag", etag.encode()), (b"cache-control", self.holder.cache_control)]
        inm = _header(scope, b"if-none-match")
        if inm is not None and etag_matches(inm.decode("latin-1"), etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: dict, name: bytes) -> bytes | None:
    for k, v in scope["headers"]:
        if k == name:
            return v
    return None


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` semantics: any listed tag (weak or strong) or ``*``."""
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags
