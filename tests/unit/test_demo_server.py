"""The loopback demo server, exercised with real HTTP requests (httpx and a raw socket)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from pipeline.demo_server import LAST_MODIFIED, DemoServer
from tests.conftest import need

ATOM = b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>\n'
RSS = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>t</title></channel></rss>\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("sites")
    site = root / "news.example"
    (site / "2025" / "08").mkdir(parents=True)
    (site / "index.html").write_text("<html><body>home</body></html>", encoding="utf-8")
    (site / "2025" / "08" / "story.html").write_text("<p>مرحبا story</p>", encoding="utf-8")
    (site / "news").mkdir()
    (site / "news" / "48213").write_text("<p>extensionless</p>", encoding="utf-8")
    (site / "empty.html").write_bytes(b"")
    (site / "atom.xml").write_bytes(ATOM)
    (site / "rss.xml").write_bytes(RSS)
    (site / "feed.json").write_text('{"version": "https://jsonfeed.org/version/1.1"}')
    (site / "feeds.opml").write_text("<opml/>")
    (root / "secret.txt").write_text("top secret")
    (root / "other.example").mkdir()
    (root / "other.example" / "index.html").write_text("other site")
    with DemoServer(root, port=0) as srv:
        yield srv


_CLIENT = httpx.Client(timeout=5)


def _get(srv: DemoServer, path: str, host: str = "news.example", **headers: str) -> httpx.Response:
    return _CLIENT.get(f"http://127.0.0.1:{srv.port}{path}", headers={"Host": host, **headers})


def _raw(srv: DemoServer, request_line: str, host: str = "news.example") -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
        sock.sendall(f"{request_line}\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def test_resolve_setting_names_the_bound_port(server: DemoServer) -> None:
    assert server.port > 0
    assert server.resolve_setting == f"*.example=127.0.0.1:{server.port}"


def test_serves_by_host_header_with_validators(server: DemoServer) -> None:
    r = _get(server, "/2025/08/story.html")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == "<p>مرحبا story</p>"
    assert r.headers["last-modified"] == LAST_MODIFIED
    assert r.headers["etag"].startswith('"') and len(r.headers["etag"]) > 10
    other = _get(server, "/", host="other.example:8765")
    assert other.status_code == 200 and other.text == "other site"
    assert _get(server, "/").text == "<html><body>home</body></html>"


def test_conditional_get_returns_304(server: DemoServer) -> None:
    first = _get(server, "/rss.xml")
    etag = first.headers["etag"]
    again = _get(server, "/rss.xml", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert _get(server, "/rss.xml", **{"If-None-Match": '"nope"'}).status_code == 200
    assert _get(server, "/rss.xml", **{"If-Modified-Since": LAST_MODIFIED}).status_code == 304
    older = "Mon, 01 Sep 2025 00:00:00 GMT"
    assert _get(server, "/rss.xml", **{"If-Modified-Since": older}).status_code == 200
    assert _get(server, "/rss.xml", **{"If-Modified-Since": "garbage"}).status_code == 200


def test_etag_is_content_hash_and_stable(server: DemoServer) -> None:
    a = _get(server, "/atom.xml").headers["etag"]
    b = _get(server, "/atom.xml").headers["etag"]
    c = _get(server, "/rss.xml").headers["etag"]
    assert a == b != c


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/news/48213", "text/html; charset=utf-8"),
    ],
)
def test_content_types(server: DemoServer, path: str, ctype: str) -> None:
    r = _get(server, path)
    assert r.status_code == 200
    assert r.headers["content-type"] == ctype


def test_missing_file_is_html_404(server: DemoServer) -> None:
    r = _get(server, "/2025/08/nope.html")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "404 Not Found" in r.text
    assert _get(server, "/", host="unknown.example").status_code == 404


def test_empty_file_is_200_with_empty_body(server: DemoServer) -> None:
    r = _get(server, "/empty.html")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == "0"


@pytest.mark.parametrize(
    "request_line",
    [
        "GET /../secret.txt HTTP/1.1",
        "GET /%2e%2e/secret.txt HTTP/1.1",
        "GET /2025/../../secret.txt HTTP/1.1",
        "GET /..%2fsecret.txt HTTP/1.1",
        "GET /..\\secret.txt HTTP/1.1",
    ],
)
def test_path_traversal_is_blocked(server: DemoServer, request_line: str) -> None:
    status, body = _raw(server, request_line)
    assert status == 404
    assert b"top secret" not in body


@pytest.mark.parametrize("host", ["..", "../", "news.example/..", "..example"])
def test_host_traversal_is_blocked(server: DemoServer, host: str) -> None:
    status, body = _raw(server, "GET /secret.txt HTTP/1.1", host=host)
    assert status == 404
    assert b"top secret" not in body


def test_head_has_no_body(server: DemoServer) -> None:
    r = _CLIENT.head(f"http://127.0.0.1:{server.port}/rss.xml", headers={"Host": "news.example"})
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == str(len(RSS))


def test_serves_the_sample_corpus() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "sites"
    need(root.is_dir(), "examples/sites not generated (python examples/build_corpus.py)")
    with DemoServer(root) as srv:
        r = _CLIENT.get(f"http://127.0.0.1:{srv.port}/atom.xml", headers={"Host": "harbortimes.example"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/atom+xml")
        assert "Harbor Times" in r.text


def test_start_stop_without_context_manager(tmp_path: Path) -> None:
    (tmp_path / "a.example").mkdir()
    (tmp_path / "a.example" / "index.html").write_text("hi")
    srv = DemoServer(tmp_path).start()
    try:
        assert _get(srv, "/", host="a.example").text == "hi"
    finally:
        srv.stop()
    with pytest.raises(RuntimeError):
        _ = srv.port
