"""HTML pages for people: story pages, the stories index, feed health, sign-in.

Server-rendered from Jinja2 templates in the package (``pipeline/api/templates``) with
autoescaping on, so article text (hostile input: a feed may carry ``<script>``) is always
text, never markup.  No JavaScript framework, no CDN: one small script
(``static/pages.js``) links the two sides of an aligned pair on hover and focus, and the
pages work without it.  The JSON API stays the default: a route answers HTML only when the
client's ``Accept`` header prefers ``text/html`` (a browser does; curl and API clients do
not).

Pages read the warehouse like the rest of the API: short read-only connections on a
worker thread, answers cached per snapshot version, so a page never holds the DuckDB
file against the pipeline's writers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import date, datetime, time
from functools import cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from pipeline.api import models, session
from pipeline.api.errors import Unavailable
from pipeline.api.fastpath import ID_PATTERN
from pipeline.api.story_view import direction, story_page
from pipeline.config import Settings

log = logging.getLogger(__name__)
KINDS = ("exact", "near", "translation")
_LANG = r"^[a-z]{2,3}$"
_DOMAIN = r"^[A-Za-z0-9.-]{1,253}$"
STATIC = {"pages.js": "text/javascript; charset=utf-8", "pages.css": "text/css; charset=utf-8"}


def _q(accept: str, wanted: str) -> float:
    """The quality ``accept`` gives ``wanted`` (exact type, then ``type/*``, then ``*/*``)."""
    best: dict[str, float] = {}
    for item in accept.split(","):
        bits = [b.strip() for b in item.split(";")]
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        best[bits[0].lower()] = max(q, best.get(bits[0].lower(), 0.0))
    major = wanted.split("/")[0]
    for key in (wanted, f"{major}/*", "*/*"):
        if key in best:
            return best[key]
    return 0.0


def wants_html(request: Request) -> bool:
    """True when the client prefers HTML to JSON (JSON wins ties: it is the API)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and _q(accept, "text/html") > _q(accept, "application/json")


@cache
def _env():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("pipeline.api", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["when"] = _when
    env.filters["dir"] = direction
    return env


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def render(template: str, **context: Any) -> bytes:
    return _env().get_template(template).render(**context).encode("utf-8")


def _html(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    base = {"Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'; "
                                       "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
            "Cache-Control": "private, no-cache", "Vary": "Accept, Cookie"}
    return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=base | (headers or {}))


_EDITOR = {"type": "string", "pattern": r"\S", "maxLength": 100, "description": "who makes the correction"}
_NOTE = {"type": "string", "maxLength": 500, "description": "why (shown on the story page)"}
_ARTICLE = {"type": "string", "pattern": "^[0-9a-f]{16}$", "description": "the copy to move"}
CORRECTION_SCHEMA = {"oneOf": [
    {"type": "object", "required": ["action", "article_id", "editor"], "title": "Split",
     "properties": {"action": {"type": "string", "enum": ["split"]}, "article_id": _ARTICLE,
                    "editor": _EDITOR, "note": _NOTE}},
    {"type": "object", "required": ["action", "article_id", "target", "editor"], "title": "Join",
     "properties": {"action": {"type": "string", "enum": ["join"]}, "article_id": _ARTICLE,
                    "target": {"type": "string", "pattern": f"^{ID_PATTERN}$",
                               "description": "a story id (current or retired) or an article id"},
                    "editor": _EDITOR, "note": _NOTE}},
]}


def correction_problems(form: dict | None) -> list[tuple[str, str]]:
    """(field, problem) for a correction body that breaks ``CORRECTION_SCHEMA``."""
    if form is None:
        return [("body", "send a JSON object or a form")]
    out = []
    action = form.get("action")
    if action not in ("split", "join"):
        out.append(("action", "must be split or join"))
    for name, rule in (("article_id", _ARTICLE), ("editor", _EDITOR), ("note", _NOTE)):
        value = form.get(name)
        if value is None and name == "note":
            continue
        if not isinstance(value, str) or not re.search(rule.get("pattern", ""), value) \
                or len(value) > rule.get("maxLength", 10**9):
            out.append((name, rule["description"] + " is missing or malformed"))
    if action == "join":
        target = form.get("target")
        if not isinstance(target, str) or not re.fullmatch(ID_PATTERN, target):
            out.append(("target", "a story or article id is needed to join"))
    return out


async def _form_or_json(request: Request) -> dict | None:
    raw = (await request.body())[:16384]
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}


def not_found(message: str) -> Response:
    return _html(render("error.html", title="Not found", message=message, signed_in=False), 404)


def _read(settings: Settings, queries: list[tuple[str, dict | None]]) -> list[list[dict]]:
    """Rows of several SQL files over one short read-only connection (worker thread)."""
    from pipeline.warehouse.backend import open_backend

    with open_backend(settings, read_only=True) as be:
        return [be.query(name, params) for name, params in queries]


async def _rows(settings: Settings, queries: list[tuple[str, dict | None]]) -> list[list[dict]]:
    try:
        return await asyncio.to_thread(_read, settings, queries)
    except Exception as exc:
        log.warning("pages: warehouse read failed: %s: %s", type(exc).__name__, exc)
        raise Unavailable("warehouse busy or not loaded") from exc


async def story_response(request: Request, settings: Settings, holder: Any, story_id: str) -> Response:
    """The story page (the snapshot already resolved ``story_id`` to a current story)."""
    snap = await holder.current()
    key = ("page:story", snap.version, story_id)
    hit = holder.cache.get(key)
    if hit is None:
        members, links, fixes = await _rows(settings, [("page_story_members", {"story_id": story_id}),
                                                       ("page_story_links", {"story_id": story_id}),
                                                       ("page_story_corrections", {"story_id": story_id})])
        if not members:
            return not_found(f"No story {story_id}.")
        page = story_page(story_id, members, links, fixes)
        hit = holder.remember(key, render("story.html", page=page, signed_in=bool(settings.api_keys)))
    return _html(hit[1], headers={"ETag": hit[0]})


def _day(value: date | None, end: bool = False) -> datetime | None:
    if value is None:
        return None
    from datetime import UTC, timedelta

    d = value + timedelta(days=1) if end else value
    return datetime.combine(d, time.min, tzinfo=UTC)


def register(app: FastAPI, settings: Settings, holder: Any) -> None:
    """Add the page routes (stories index, feeds, sign-in, static assets) to ``app``."""

    @app.get("/stories", summary="recent stories with several copies (HTML for browsers, JSON otherwise)",
             response_class=Response, responses=models.responses(422, 503, ok=models.StoryIndex, html=True))
    async def stories(
        request: Request,
        lang: str | None = Query(None, pattern=_LANG, description="a member in this language (ISO 639)"),
        outlet: str | None = Query(None, pattern=_DOMAIN, description="a member from this source domain"),
        kind: str | None = Query(None, pattern="^(exact|near|translation)$", description="a member of this kind"),
        since: Annotated[models.IsoDate | None, Query(description="last copy on or after this day (UTC)")] = None,
        until: Annotated[models.IsoDate | None, Query(description="first copy on or before this day (UTC)")] = None,
        limit: int = Query(25, ge=1, le=100, description="stories per page"),
        offset: int = Query(0, ge=0, le=1_000_000, description="stories to skip"),
    ) -> Response:
        params = {"lang": lang, "outlet": outlet, "kind": kind, "since": _day(since),
                  "until": _day(until, end=True), "limit": limit, "offset": offset}
        (rows,) = await _rows(settings, [("page_stories", params)])
        total = int(rows[0]["total"]) if rows else 0
        items = [{"story_id": r["story_id"], "copies": r["n_copies"], "languages": list(r["languages"] or []),
                  "kinds": list(r["kinds"] or []), "canonical_id": r["canonical_id"], "title": r["title"],
                  "source_domain": r["source_domain"], "language": r["language"],
                  "first_seen": _iso(r["first_seen"]), "last_seen": _iso(r["last_seen"])} for r in rows]
        if not wants_html(request):
            return JSONResponse({"total": total, "limit": limit, "offset": offset, "stories": items})
        filters = {"lang": lang, "outlet": outlet, "kind": kind, "since": since, "until": until}

        def page_link(at: int) -> str:
            given = {k: v for k, v in filters.items() if v is not None}
            return "/stories?" + urlencode({**given, "limit": limit, "offset": at})

        nav = {"prev": page_link(max(offset - limit, 0)) if offset > 0 else None,
               "next": page_link(offset + limit) if offset + limit < total else None}
        return _html(render("stories.html", stories=items, total=total, offset=offset, filters=filters,
                            kinds=KINDS, nav=nav, signed_in=bool(settings.api_keys)))

    @app.get("/feeds", summary="feed health: state, last success, error rate, parked (HTML for browsers)",
             response_class=Response, responses=models.responses(503, ok=models.FeedHealthList, html=True))
    async def feeds(request: Request) -> Response:
        (rows,) = await _rows(settings, [("page_feeds", None)])
        items = [{k: (_iso(v) if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows]
        for r in items:
            if r.get("error_rate_7d") is not None:
                r["error_rate_7d"] = float(r["error_rate_7d"])
            if r.get("median_ms_7d") is not None:
                r["median_ms_7d"] = float(r["median_ms_7d"])
        if not wants_html(request):
            return JSONResponse({"feeds": items})
        return _html(render("feeds.html", feeds=items, signed_in=bool(settings.api_keys)))

    @app.post("/stories/{story_id}/corrections", status_code=202, response_class=Response,
              summary="an editor's correction: split a copy off this story, or join it to another story",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": CORRECTION_SCHEMA},
                  "application/x-www-form-urlencoded": {"schema": CORRECTION_SCHEMA}}}},
              responses={202: {"model": models.CorrectionAccepted, "content": models.HTML,
                               "description": "stored; applied by the next dedup run"},
                         404: {"model": models.Error, "description": "the article is not in this story"},
                         409: {"model": models.Error, "description": "the correction cannot be made "
                               "(alone in its story, already in the target story, unknown target)"},
                         422: {"model": models.ValidationFailure, "description": "a field was refused"},
                         503: {"model": models.Error, "description": "the warehouse is not loaded yet"}})
    async def correct(request: Request, story_id: str = Path(..., pattern=f"^{ID_PATTERN}$")) -> Response:
        """Form-encoded (the story page's buttons) or JSON: ``action`` (split|join),
        ``article_id``, ``target`` (join: a story or article id), ``editor``, ``note``.
        Stored in the lake at once; applied by the next dedup run."""
        from datetime import UTC

        from pipeline.dedup.corrections import CorrectionError, record
        from pipeline.lake.store import open_store

        form = await _form_or_json(request)
        problems = correction_problems(form)
        if problems:
            return JSONResponse({"detail": "; ".join(f"{p}: {why}" for p, why in problems),
                                 "errors": [{"parameter": p, "problem": why} for p, why in problems]},
                                status_code=422)
        action, article = form["action"], form["article_id"]
        target, note, editor = form.get("target") or None, form.get("note") or "", form["editor"].strip()
        snap = await holder.current()
        i = snap.pos.get(article)
        if i is None or snap.story[i] != story_id:
            return JSONResponse({"detail": f"article {article} is not in story {story_id}"}, status_code=404)
        label = session.key_label({k.lower(): v for k, v in request.headers.items()}, settings.api_keys)
        who = f"{editor} ({label})" if label else editor
        at = datetime.now(UTC).isoformat(timespec="seconds")  # the edge's clock, recorded with it
        try:
            c = await asyncio.to_thread(record, open_store(settings), action, article, target, who, at, note)
        except CorrectionError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=409)
        if wants_html(request) or "form" in request.headers.get("content-type", ""):
            return _html(render("corrected.html", correction=c.record(), story_id=story_id,
                                signed_in=bool(settings.api_keys)), 202)
        return JSONResponse({"correction": c.record(), "applies": "at the next dedup run"}, status_code=202)

    @app.get("/login", include_in_schema=False)
    async def login_form(next: str | None = None) -> Response:
        return _html(render("login.html", next=session.safe_next(next), error=None, signed_in=False))

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace")[:4096])
        key = (form.get("key") or [""])[0]
        target = session.safe_next((form.get("next") or [None])[0])
        if not settings.api_keys or key not in settings.api_keys:
            return _html(render("login.html", next=target, error="Unknown key.", signed_in=False), 401)
        secure = request.url.scheme == "https"
        return RedirectResponse(target, status_code=303, headers={"Set-Cookie": session.cookie_header(key, secure)})

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        return RedirectResponse("/login", status_code=303,
                                headers={"Set-Cookie": session.clear_header(request.url.scheme == "https")})

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC:
            return JSONResponse({"detail": "not found"}, status_code=404)
        body = resources.files("pipeline.api").joinpath("static", name).read_bytes()
        return Response(body, media_type=STATIC[name], headers={"Cache-Control": "public, max-age=3600"})


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value
