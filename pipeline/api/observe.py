"""What an operator sees of the API: one JSON access-log line per request, Prometheus metrics,
and ``HEAD`` for every ``GET``.

Plain ASGI middleware, because the related fast path (``pipeline.api.fastpath``) answers
without FastAPI's routing: only a layer outside it sees every request.  Route labels are the
route templates (never raw paths), so metric cardinality stays bounded whatever clients send.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from json.encoder import encode_basestring_ascii as _quote
from typing import Any, TextIO

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pipeline.redact import redact

access_log = logging.getLogger("newsflow.access")
_TEMPLATES = [
    (re.compile(r"^/articles/[^/]+/related$"), "/articles/{article_id}/related"),
    (re.compile(r"^/articles/[^/]+$"), "/articles/{article_id}"),
    (re.compile(r"^/stories/[^/]+$"), "/stories/{story_id}"),
    (re.compile(r"^/static/"), "/static"),
    (re.compile(r"^/docs-assets/"), "/docs-assets"),
]
_FIXED = {"/healthz", "/readyz", "/search", "/metrics", "/docs", "/redoc", "/openapi.json", "/stories", "/feeds",
          "/login", "/logout"}
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# latency buckets around the related target (p99 < 20 ms) and search's 100 ms scale
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


def route_of(path: str) -> str:
    """The route template a path belongs to, or ``unmatched``."""
    if path in _FIXED:
        return path
    for pattern, template in _TEMPLATES:
        if pattern.match(path):
            return template
    return "unmatched"


class LoopBatchedStream(logging.Handler):
    """Writes records to a stream, one write per event-loop turn instead of one per record.

    Why: under load the per-request ``write`` and ``flush`` to stderr cost about as much as
    the rest of the access-log line (10 of 17 µs per request, measured); the requests
    answered in one turn of the event loop now share one write.  Outside a running loop
    (start-up, a thread) a record is written at once, as ``logging.StreamHandler`` would.
    A line waits at most until the loop's next turn: a crash can lose that turn's lines,
    never more."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.pending: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # pragma: no cover - logging's own contract: report, never raise
            self.handleError(record)
            return
        self.line(line)

    def line(self, line: str) -> None:
        """Queue a formatted line (``emit``, and ``log_access`` without a record)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._write([line])
            return
        if not self.pending:
            loop.call_soon(self.flush)
        self.pending.append(line)

    def flush(self) -> None:
        lines, self.pending = self.pending, []
        if lines:
            self._write(lines)

    def _write(self, lines: list[str]) -> None:
        stream = self.stream or sys.stderr
        try:
            stream.write("\n".join(lines) + "\n")
            stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: the log is best effort
            pass


_PLAIN = logging.Formatter("%(message)s")


def setup_access_log() -> None:
    """Access lines go to stderr as bare JSON, whatever the root logger's level and format."""
    if not access_log.handlers:
        handler = LoopBatchedStream()
        handler.setFormatter(_PLAIN)
        access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


def access_line(method: str, path: str, status: int, seconds: float, size: int, client: str | None) -> str:
    """One access-log line: the JSON object ``json.dumps`` would write, in one format call
    (a dict and the encoder cost about as much as the rest of a related answer's logging)."""
    return (f'{{"method":{_quote(method)},"path":{_quote(path)},"status":{status},'
            f'"duration_ms":{round(seconds * 1000, 3)!r},"bytes":{size},'
            f'"client":{"null" if client is None else _quote(client)}}}')


def log_access(line: str) -> None:
    """Log one access line, redacted like every record of the process.

    Why not always ``access_log.info``: a LogRecord, the caller lookup and the formatter
    cost about a fifth of a related answer's CPU under load.  When the logger is as
    ``setup_access_log`` left it (our handler alone, no filters), the line goes straight to
    that handler, redacted by the same ``redact``; a logger configured otherwise gets a
    normal record."""
    handlers = access_log.handlers
    if len(handlers) == 1 and type(handlers[0]) is LoopBatchedStream and not access_log.filters \
            and not handlers[0].filters and handlers[0].formatter is _PLAIN:
        handlers[0].line(redact(line))
    else:
        access_log.info(line)


class Metrics:
    """The API's Prometheus metrics, in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("newsflow_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("newsflow_http_request_duration_seconds", "time to answer, per route",
                                 ["route"], buckets=_BUCKETS, registry=self.registry)
        self.snapshot_age = Gauge("newsflow_snapshot_age_seconds",
                                  "seconds since the warehouse load the served snapshot holds (NaN: none)",
                                  registry=self.registry)
        self.snapshot_articles = Gauge("newsflow_snapshot_articles", "articles in the served snapshot",
                                       registry=self.registry)
        self.last_load_rows = Gauge("newsflow_last_load_rows", "rows of the latest warehouse load, per kind",
                                    ["kind"], registry=self.registry)
        self.last_load_batches = Gauge("newsflow_last_load_batches",
                                       "lake batches of the latest warehouse load, per kind",
                                       ["kind"], registry=self.registry)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count and time one answer.  The labelled children are looked up once per
        (method, route, status): ``labels()`` costs more than the count itself.  Routes are
        templates and methods are few, so the cache stays small; an odd method from a
        client is counted without being cached."""
        key = (method, route, status)
        pair = self._children.get(key)
        if pair is None:
            pair = (self.requests.labels(method, route, str(status)), self.latency.labels(route))
            if method in _METHODS:
                self._children[key] = pair
        pair[0].inc()
        pair[1].observe(seconds)


class Observe:
    """Outermost middleware: time, status and bytes of every answer; log line and metrics."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = {"status": 500, "bytes": 0}

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - start
            route = route_of(scope["path"])
            self.metrics.observe(scope["method"], route, state["status"], seconds)
            if access_log.isEnabledFor(logging.INFO):
                log_access(access_line(scope["method"], scope["path"], state["status"], seconds, state["bytes"],
                                       (scope.get("client") or [None])[0]))


class HeadAsGet:
    """``HEAD`` answers what ``GET`` would, headers only (FastAPI's routes are GET only)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: dict) -> None:
            if message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
            await send(message)

        await self.app(dict(scope, method="GET"), receive, headers_only)
