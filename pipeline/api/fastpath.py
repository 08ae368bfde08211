"""The hot path of the API: valid ``GET /articles/{id}/related`` answered in plain ASGI.

Why: the website calls this one endpoint for every page view, and at concurrency 32 on
2 cores FastAPI's per-request machinery (routing, dependency resolution, validation
models, Response objects) costs more than the answer itself.  This layer answers only
requests it can answer *exactly* as the FastAPI route would (same validation rules, same
bytes, same headers, same ETag/304 behaviour, same response cache); anything else (a bad
parameter, an unknown id, another path or method) falls through to FastAPI, which stays
the single source of error messages and of the OpenAPI description.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from pipeline.api.mapped import MappedSnapshot

# The route's validation rules, shared with pipeline/api/app.py so the two cannot drift.
ID_PATTERN = r"[A-Za-z0-9_.:-]{1,128}"
LANG_PATTERN = r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?"
K_DEFAULT, K_MAX = 10, 50
PREFIX, SUFFIX = "/articles/", "/related"
ID_RE, LANG_RE = re.compile(ID_PATTERN), re.compile(LANG_PATTERN)


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
    k, lang = K_DEFAULT, None
    query = scope.get("query_string", b"")
    if query:
        params = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        names = [n for n, _ in params]
        if len(set(names)) != len(names):
            return None  # repeated parameters: FastAPI's rules decide
        for name, value in params:
            if name == "k":
                if not (value.isascii() and value.isdigit() and 1 <= int(value) <= K_MAX):
                    return None
                k = int(value)
            elif name == "lang":
                if not LANG_RE.fullmatch(value):
                    return None
                lang = value
    return article_id, k, lang


class RelatedFastPath:
    """ASGI middleware in front of the FastAPI app (inside the API-key check)."""

    def __init__(self, app: Any, holder: Any) -> None:
        self.app, self.holder = app, holder

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        parsed = parse_related(scope)
        holder = self.holder
        if parsed is None or holder.snapshot is None:  # not ours, or not loaded yet (FastAPI: 503)
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
        etag, body = hit
        headers = [(b"etag", etag.encode()), (b"cache-control", holder.cache_control)]
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
