"""A loopback static server that plays every fictional outlet of ``examples/sites``.

Why it exists: end-to-end tests and ``make demo`` must exercise the real fetcher
(HTTP, conditional GET, redirects of nothing, 404s, empty bodies) without the
internet.  Each outlet keeps its own domain: the fetcher maps ``*.example`` to this
server (``Settings.resolve``) and sends the original ``Host`` header, which picks
the folder ``<root>/<host>/``.

Responses are deterministic so runs are repeatable across clones: ``ETag`` is a hash
of the bytes and ``Last-Modified`` is a constant, never a file mtime.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import threading
from datetime import UTC
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

#: Constant modification time for every file, so validators are stable across clones.
LAST_MODIFIED = "Tue, 30 Sep 2025 12:00:00 GMT"
_LAST_MODIFIED_DT = parsedate_to_datetime(LAST_MODIFIED)

_HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$")
_NOT_FOUND_BODY = (
    b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    b"<title>404 Not Found</title></head><body><h1>404 Not Found</h1>"
    b"<p>The page you requested does not exist.</p></body></html>\n"
)

_TYPES = {
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}


def content_type_for(path: Path, body: bytes) -> str:
    """Pick a Content-Type from the extension; ``.xml`` is sniffed for Atom.

    Extension-less files are article pages (``/news/48213``), so they are HTML.
    """
    suffix = path.suffix.lower()
    if suffix == ".xml":
        head = body[:1024]
        if b"<feed" in head and b"http://www.w3.org/2005/Atom" in head:
            return "application/atom+xml; charset=utf-8"
        return "application/rss+xml; charset=utf-8"
    if not suffix:
        return "text/html; charset=utf-8"
    return _TYPES.get(suffix, "application/octet-stream")


def etag_for(body: bytes) -> str:
    """A strong validator derived from content only."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def resolve_path(root: Path, host: str | None, raw_path: str) -> Path | None:
    """Map ``Host`` + request path to a file under ``root/host``; None when not allowed.

    Refuses anything that could leave the host folder: ``..`` segments (also
    percent-encoded), backslashes, NUL bytes, absolute symlink escapes.
    """
    if not host:
        return None
    domain = host.strip().lower().rsplit(":", 1)[0] if not host.startswith("[") else ""
    if not _HOST_RE.match(domain) or ".." in domain:
        return None
    site = (root / domain).resolve()
    if not site.is_dir() or site.parent != root.resolve():
        return None
    path = unquote(urlsplit(raw_path).path)
    if "\x00" in path or "\\" in path:
        return None
    parts = [p for p in path.split("/") if p]
    if any(p in {".", ".."} for p in parts):
        return None
    target = site.joinpath(*parts) if parts else site
    if target.is_dir():
        target = target / "index.html"
    resolved = target.resolve()
    if not resolved.is_relative_to(site) or not resolved.is_file():
        return None
    return resolved


class _Handler(BaseHTTPRequestHandler):
    server_version = "newsflow-demo/1.0"
    protocol_version = "HTTP/1.1"

    # Set per server class in DemoServer.start().
    root: Path = Path(".")
    verbose: bool = False

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        self._serve(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        target = resolve_path(self.root, self.headers.get("Host"), self.path)
        if target is None:
            self._send(HTTPStatus.NOT_FOUND, _NOT_FOUND_BODY, "text/html; charset=utf-8", send_body)
            return
        body = target.read_bytes()
        etag = etag_for(body)
        extra = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if self._not_modified(etag):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, False, extra)
            return
        self._send(HTTPStatus.OK, body, content_type_for(target, body), send_body, extra)

    def _not_modified(self, etag: str) -> bool:
        """RFC 9110: If-None-Match wins over If-Modified-Since when both are present."""
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError, IndexError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return _LAST_MODIFIED_DT <= since
        return False

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        send_body: bool,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.verbose:
            super().log_message(format, *args)


class DemoServer:
    """Threaded static server on 127.0.0.1; use as a context manager or start()/stop()."""

    def __init__(self, root: str | Path, port: int = 0, host: str = "127.0.0.1", verbose: bool = False):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"demo server root {self.root} is not a directory")
        self.host = host
        self._requested_port = port
        self.verbose = verbose
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("demo server is not started")
        return int(self._httpd.server_address[1])

    @property
    def resolve_setting(self) -> str:
        """Value for ``NEWSFLOW_RESOLVE``: every ``*.example`` host goes to this server."""
        return f"*.example={self.host}:{self.port}"

    def start(self) -> DemoServer:
        handler = type("DemoHandler", (_Handler,), {"root": self.root, "verbose": self.verbose})
        self._httpd = ThreadingHTTPServer((self.host, self._requested_port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="demo-server", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Block in the calling thread (CLI use)."""
        if self._httpd is None:
            self.start()
        assert self._thread is not None
        self._thread.join()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve examples/sites by Host header on loopback.")
    parser.add_argument("--root", default="examples/sites")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    server = DemoServer(args.root, port=args.port, host=args.host, verbose=args.verbose).start()
    print(f"NEWSFLOW_RESOLVE={server.resolve_setting}", flush=True)
    print(f"serving {server.root} on http://{args.host}:{server.port} (Ctrl-C to stop)",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
