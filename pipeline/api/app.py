"""The HTTP API the website pulls related articles from (FastAPI on uvicorn).

Read-only: related lists, articles and stories are answered from a memory-mapped snapshot
(``pipeline.api.mapped``) that a builder publishes, with one short read-only warehouse
connection, when the warehouse's version changes (``pipeline.api.snapfiles``; checked at most
every ``api_cache_seconds``, in the background); search runs per request on a short
read-only connection.  So the API never
holds the DuckDB file against the pipeline's writers, and works on PostgreSQL the same way.

Every JSON answer carries an ``ETag`` (304 on a matching ``If-None-Match``) and
``Cache-Control``; unknown ids are 404, bad parameters 422 with a plain message, an
unloaded or busy warehouse 503; a retired story id (two stories merged) is a 301 to the
surviving story (``story_aliases``); with ``api_keys`` set, requests need ``X-API-Key`` (or
``Authorization: Bearer``) except ``/healthz``, ``/readyz`` and the docs.  No answer ever
carries configuration or an exception text (``pipeline.api.health``): details go to the
(redacted) log.

The contract clients generate from is the OpenAPI document: every body has a model
(``pipeline.api.models``), every status is listed, ``HEAD`` sits beside every ``GET`` and the
key schemes appear when keys are on (``pipeline.api.docs``); schemathesis holds the server to
it.  Operators get an access log line per request and ``/metrics`` (``pipeline.api.observe``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from pipeline.api import models, pages, session
from pipeline.api.docs import install_openapi, mount_docs
from pipeline.api.errors import Unavailable
from pipeline.api.fastpath import (
    ID_PATTERN,
    K_DEFAULT,
    K_MAX,
    LANG_PATTERN,
    FastPath,
    etag_matches,
)
from pipeline.api.mapped import MappedSnapshot
from pipeline.api.observe import HeadAsGet, Metrics, Observe, setup_access_log
from pipeline.api.search_page import (
    OUTLET_MAX_CHARS,
    OUTLET_PATTERN,
    Q_MAX_CHARS,
    SEARCH_MAX_LIMIT,
    SEARCH_MAX_OFFSET,
    SearchRunner,
)
from pipeline.api.snapfiles import read_current, refresh, snapshot_root
from pipeline.config import Settings

log = logging.getLogger(__name__)
OPEN_PATHS = {"/healthz", "/readyz", "/docs", "/redoc", "/openapi.json",
              "/login", "/logout", "/static/pages.js", "/static/pages.css"}
OPEN_PREFIXES = ("/docs-assets/",)  # Swagger UI and ReDoc files (pipeline.api.docs)
_LANG = f"^{LANG_PATTERN}$"
_ID = f"^{ID_PATTERN}$"


class Holder:
    """The current snapshot, its freshness checks and the response cache.

    The snapshot is a published version directory memory-mapped by this worker
    (``pipeline.api.mapped``); a refresh maps a newer one.  With ``api_snapshot_builder =
    "inline"`` (no supervisor: tests, an app embedded elsewhere) the refresh first builds and
    publishes a version itself when the warehouse moved (``pipeline.api.snapfiles.refresh``:
    builders take turns, so several such processes build once); with ``"external"`` (the
    workers of ``newsflow serve``) the supervisor's builder does that and this only maps."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.root = snapshot_root(settings)
        self.external = settings.api_snapshot_builder == "external"
        self.snapshot: MappedSnapshot | None = None
        self.checked = 0.0
        self.error: str | None = None
        self.last_load = None  # the load time of the data the snapshot serves
        self._refreshing = False
        self._lock = asyncio.Lock()
        self.cache: OrderedDict[tuple, tuple[str, bytes]] = OrderedDict()
        self.cache_control = f"public, max-age={settings.api_max_age}".encode()
        self.searches = SearchRunner(settings)

    def _reload(self) -> None:
        """Runs in a worker thread: map the published version when it is not the one served
        (inline: after building one when the warehouse moved)."""
        try:
            if not self.external:
                refresh(self.settings, self.root)
            name = read_current(self.root)
            if name is None:
                if self.external:
                    self.error = "no snapshot published yet"
                return
            if self.snapshot is not None and self.snapshot.name == name:
                self.error = None
                return
            snap = MappedSnapshot.open_current(self.root)
            if snap is None:
                return
            meta = snap.meta
            self.snapshot, self.error = snap, None
            self.last_load = datetime.fromisoformat(meta["last_load"]) if meta.get("last_load") else None
            if self.metrics is not None:
                self.metrics.snapshot_articles.set(len(snap))
                for row in meta.get("last_counts", []):
                    self.metrics.last_load_rows.labels(row["kind"]).set(row["rows"])
                    self.metrics.last_load_batches.labels(row["kind"]).set(row["batches"])
            self.cache.clear()
            log.info("api snapshot %s mapped: %d articles, %d lists", snap.name, len(snap), meta.get("lists", 0))
        except Exception as exc:  # keep serving the old snapshot; /readyz reports it
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("api snapshot not refreshed: %s", self.error)  # redacted by pipeline.redact
        finally:
            self.checked = time.monotonic()

    async def current(self) -> MappedSnapshot:
        if self.snapshot is None:
            async with self._lock:
                if self.snapshot is None:
                    await asyncio.to_thread(self._reload)
            if self.snapshot is None:
                raise Unavailable("no data loaded yet" if self.error is None else "warehouse unreachable or not loaded")
        elif not self._refreshing and time.monotonic() - self.checked > self.settings.api_cache_seconds:
            self._refreshing = True
            self.checked = time.monotonic()
            task = asyncio.get_running_loop().run_in_executor(None, self._reload)
            task.add_done_callback(lambda _: setattr(self, "_refreshing", False))
        return self.snapshot

    def answer(self, key: tuple, build: Callable[[], Any]) -> tuple[str, bytes]:
        """(ETag, body) of a response: cached, else ``build()`` (bytes, or a value for JSON)."""
        hit = self.cache.get(key)
        if hit is None:
            body = build()
            if not isinstance(body, bytes):
                body = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            hit = self.remember(key, body)
        return hit

    def remember(self, key: tuple, body: bytes) -> tuple[str, bytes]:
        etag = '"' + hashlib.blake2b(body, digest_size=10).hexdigest() + '"'
        self.cache[key] = (etag, body)
        if len(self.cache) > self.settings.api_cache_entries:
            self.cache.popitem(last=False)
        return etag, body


class ApiKeys:
    """Plain ASGI middleware (cheaper than ``@app.middleware``): a known key or 401."""

    def __init__(self, app: Any, keys: frozenset[str]) -> None:
        self.app, self.keys = app, keys

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            auth = headers.get("authorization", "")
            key = headers.get("x-api-key") or (auth[7:].strip() if auth.lower().startswith("bearer ") else None)
            if key not in self.keys and not session.valid(_cookie(headers.get("cookie", "")), self.keys):
                if scope["method"] in ("GET", "HEAD") and "text/html" in headers.get("accept", ""):
                    # a person in a browser: sign in, then come back (pipeline.api.session)
                    target = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope["query_string"] else "")
                    location = "/login?next=" + quote(target, safe="")
                    await Response(status_code=303, headers={"Location": location})(scope, receive, send)
                    return
                await _error(401, "missing or unknown API key (send X-API-Key)")(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == session.COOKIE:
            return value
    return None


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": message, **extra}, status_code=status)


STORY_DESCRIPTION = (
    "A story's members, canonical first.  Story ids are stable, but when two stories merge the "
    "survivor keeps its id and the other id is retired; a retired id (from a link shared earlier) "
    "answers **301 Moved Permanently** with `Location: /stories/{current id}` and the current id in "
    "the body, so links keep working and clients learn the new id.  The redirect is cacheable only "
    "for `max-age` (an alias may be re-pointed by a later dedup generation).  Articles' `story_id` "
    "and search results always carry current ids."
)
STORY_RESPONSES: dict[int | str, dict[str, Any]] = {
    301: {
        "description": "a retired story id: the story now lives at `Location` (the body repeats its id)",
        "headers": {"Location": {"description": "`/stories/{current story id}`", "schema": {"type": "string"}}},
        "model": models.Moved,
    },
    **models.responses(304, 404, 422, 503, ok=models.Story, html=True),
}
STORY_RESPONSES[404]["description"] = "unknown story id (neither current nor retired)"


def _age_seconds(last_load: datetime | None) -> float:
    """Seconds since ``last_load`` (NaN when nothing is loaded): the snapshot-age gauge."""
    if last_load is None:
        return float("nan")
    from datetime import UTC

    if last_load.tzinfo is None:
        last_load = last_load.replace(tzinfo=UTC)
    return (datetime.now(UTC) - last_load).total_seconds()


def _story_moved(request: Request, old: str, current: str, cache_control: str) -> JSONResponse:
    """301 to the surviving story's canonical URL.

    Why 301 rather than 308: the route is GET only, so 308's method guarantee adds nothing,
    while every client, crawler and link unfurler that reads editors' links knows 301.  Why
    ``Cache-Control: max-age`` (not forever): a later generation may re-point the alias (a
    split), and caches must learn it like any other answer of this API.  The path keeps the
    ASGI ``root_path`` so the redirect also works behind a proxy mounting the API under a prefix.
    """
    location = request.scope.get("root_path", "") + "/stories/" + quote(current, safe="")
    return JSONResponse({"detail": f"story {old} is now story {current}", "story_id": current}, status_code=301,
                        headers={"Location": location, "Cache-Control": cache_control})


def create_app(settings: Settings | None = None) -> FastAPI:
    from pipeline.redact import install

    install()  # uvicorn workers are fresh processes: redact their logs too
    settings = settings or Settings.load()
    if settings.api_snapshot_builder == "external" and not settings.warehouse_reader_threads:
        # a worker's warehouse reads are search hits' rows by key: one DuckDB thread each
        # (a second costs 3x the CPU under 32 clients); the builder process scans in parallel
        settings = settings.replace(warehouse_reader_threads=1)
    setup_access_log()
    metrics = Metrics()
    holder = Holder(settings, metrics)
    metrics.snapshot_age.set_function(lambda: _age_seconds(holder.last_load))
    languages = tuple(settings.languages)
    Language = Literal[languages]  # type: ignore[valid-type]  # an enum in OpenAPI: en-US is a 422

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):  # warm the snapshot and the search index so the first request is fast
        await asyncio.to_thread(holder._reload)
        await asyncio.to_thread(holder.searches.warm)
        try:
            yield
        finally:
            holder.searches.close()

    app = FastAPI(title="newsflow", version="0.2.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Related articles, stories and search over the newsflow warehouse. "
                              "Related lists never contain a copy or translation of the article read.")
    app.state.holder = holder
    app.state.metrics = metrics
    mount_docs(app)
    install_openapi(app, keyed=bool(settings.api_keys), open_paths=OPEN_PATHS)

    def cached(request: Request, key: tuple, build) -> Response:
        etag, body = holder.answer(key, build)
        headers = {"ETag": etag, "Cache-Control": holder.cache_control.decode()}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    app.add_middleware(FastPath, holder=holder, languages=languages)  # added first: runs inside the key check
    if settings.api_keys:
        app.add_middleware(ApiKeys, keys=frozenset(settings.api_keys))
    if settings.api_cors_origins:  # outside the key check: a browser's preflight carries no key
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.api_cors_origins),
                           allow_methods=["GET", "HEAD"], allow_headers=["X-API-Key", "Authorization", "If-None-Match"],
                           expose_headers=["ETag"], max_age=600)
    app.add_middleware(HeadAsGet)
    app.add_middleware(Observe, metrics=metrics)  # outermost: sees every request, fast path included

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"parameter": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), "problem": e["msg"]}
                  for e in exc.errors()]
        message = "; ".join(f"{e['parameter']}: {e['problem']}" for e in errors)
        return _error(422, message, errors=errors)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        # a fixed phrase: the exception behind it (URL, host, path) goes to the log only
        return JSONResponse({"detail": f"warehouse unavailable: {exc}"}, status_code=503, headers={"Retry-After": "5"})

    @app.get("/healthz", summary="liveness: the process answers (nothing about configuration)",
             response_model=models.Health)
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/metrics", summary="Prometheus metrics: requests and latency per route, snapshot age, last load",
             response_class=Response, responses={200: {"description": "Prometheus text format",
                                                       "content": {"text/plain": {"schema": {"type": "string"}}}}})
    def prometheus() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})

    @app.get("/readyz", summary="readiness: warehouse reachable, data younger than ready_max_age",
             response_model=models.Readiness,
             responses={503: {"model": models.Readiness, "description": "not ready (the body says why)"}})
    async def readyz() -> JSONResponse:
        from datetime import UTC, datetime

        from pipeline.api.health import readiness
        from pipeline.warehouse.backend import open_backend

        def probe() -> bool:
            try:
                with open_backend(settings, read_only=True) as be:
                    be.query("api_version")
                return True
            except Exception as exc:
                log.warning("readyz: warehouse probe failed: %s: %s", type(exc).__name__, exc)
                return False

        try:
            reachable = await asyncio.wait_for(asyncio.to_thread(probe), timeout=10)
        except TimeoutError:
            reachable = False
        state = readiness(reachable=reachable, snapshot_loaded=holder.snapshot is not None,
                          last_load=holder.last_load, now=datetime.now(UTC),  # the edge's clock
                          max_age=settings.ready_max_age_seconds)
        return JSONResponse(state.body(), status_code=200 if state.ready else 503,
                            headers={"Cache-Control": "no-store"})

    @app.get("/articles/{article_id}/related", summary="related articles (never a copy or translation)",
             response_class=Response, responses=models.responses(304, 404, 422, 503, ok=models.RelatedList))
    async def related(
        request: Request,
        article_id: str = Path(..., pattern=_ID, description="article id (16 hex)"),
        k: int = Query(K_DEFAULT, ge=1, le=K_MAX, description=f"number of related articles, 1-{K_MAX}"),
        lang: str | None = Query(None, pattern=_LANG, description="reader language (ISO 639-1); default the article's"),
    ) -> Response:
        snap = await holder.current()
        key = ("related", snap.version, article_id, k, lang)
        if key not in holder.cache and article_id not in snap.pos:
            return _error(404, f"unknown article {article_id}")
        return cached(request, key, lambda: snap.related_json(article_id, k, lang))

    @app.get("/articles/{article_id}", summary="one article's metadata and story",
             response_class=Response, responses=models.responses(304, 404, 422, 503, ok=models.Article))
    async def article(request: Request, article_id: str = Path(..., pattern=_ID)) -> Response:
        snap = await holder.current()
        i = snap.pos.get(article_id)
        if i is None:
            return _error(404, f"unknown article {article_id}")
        story_url = request.scope.get("root_path", "") + "/stories/" + quote(snap.story[i] or "", safe="")
        if pages.wants_html(request) and snap.story[i]:  # a browser: the article on its story page
            return Response(status_code=303, headers={"Location": f"{story_url}#a-{article_id}"})
        return cached(request, ("article", snap.version, article_id), lambda: snap.item(i) | {
            "story_id": snap.story[i], "duplicate_of": snap.dup_of[i], "dup_kind": snap.dup_kind[i],
            "story_url": story_url})

    @app.get("/stories/{story_id}", summary="a story: its canonical, copies and translations",
             description=STORY_DESCRIPTION, response_class=Response, responses=STORY_RESPONSES)
    async def story(request: Request, story_id: str = Path(..., pattern=_ID, description="story id, current or retired")
                    ) -> Response:
        snap = await holder.current()
        current = snap.resolve_story(story_id)
        html = pages.wants_html(request)
        if current is None:
            if html:
                return pages.not_found(f"No story {story_id}.")
            return _error(404, f"unknown story {story_id}")
        if current != story_id:  # a retired id (merged or split): send the link on
            return _story_moved(request, story_id, current, holder.cache_control.decode())
        if html:  # a browser: the story page (pipeline.api.pages)
            return await pages.story_response(request, settings, holder, story_id)
        return cached(request, ("story", snap.version, story_id), lambda: snap.story_of(story_id))

    pages.register(app, settings, holder)

    async def search(
        request: Request,
        q: str = Query(..., min_length=1, max_length=Q_MAX_CHARS, description="query text"),
        lang: Annotated[str | None, Query(description="only this language (one of the configured languages)")] = None,
        outlet: str | None = Query(None, min_length=1, max_length=OUTLET_MAX_CHARS, pattern=f"^{OUTLET_PATTERN}$",
                                   description="only this source domain, e.g. `news.example`"),
        since: Annotated[models.IsoDateTime | None,
                         Query(description="published at or after (ISO 8601; UTC when no offset)")] = None,
        until: Annotated[models.IsoDateTime | None,
                         Query(description="published before (ISO 8601; UTC when no offset)")] = None,
        limit: int = Query(10, ge=1, le=SEARCH_MAX_LIMIT, description="results per page"),
        offset: int = Query(0, ge=0, le=SEARCH_MAX_OFFSET, description="results to skip (the previous page's `next_offset`)"),
    ) -> Response:
        from pipeline.search.index import SearchIndexError
        from pipeline.warehouse.queries import SearchError, WarehouseUnavailable

        try:
            key, page = await holder.searches.page(q=q, lang=lang, outlet=outlet, since=since, until=until,
                                                   limit=limit, offset=offset)
        except SearchError as exc:
            return _error(422, f"q: {exc}")
        except (WarehouseUnavailable, SearchIndexError) as exc:
            log.warning("search: warehouse or search index unavailable: %s", exc)
            return JSONResponse({"detail": "warehouse unavailable"}, status_code=503, headers={"Retry-After": "5"})
        return cached(request, key, lambda: page)

    # ``lang`` is an enum of the configured languages (``en-US`` is a 422, not an empty list);
    # the type is made here, from the settings, so the annotation is set before registering.
    search.__annotations__["lang"] = Annotated[Language | None, Query(
        description="only this language (one of the configured languages)")]
    app.get("/search", summary="BM25 search over title and body, Arabic and English alike",
            description="The filters of `newsflow search`; results page by `offset` (the response's "
                        "`next_offset`, null on the last page).",
            response_class=Response, responses=models.responses(304, 422, 503, ok=models.SearchPage))(search)

    return app
