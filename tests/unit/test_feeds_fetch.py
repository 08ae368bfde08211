"""Fetcher against a real HTTP server on loopback (and a real HTTPS one with its own CA)."""

from __future__ import annotations

import gzip
import importlib.util
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from pipeline.config import Settings
from pipeline.feeds.fetch import Fetcher
from pipeline.models import FetchError
from tests.conftest import need

BOMB = gzip.compress(b"\0" * 20_000_000, compresslevel=9)  # ~20 KB on the wire


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        if "Content_Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: C901 - a routing table
        path = self.path
        if path == "/ok":
            self._send(
                200,
                b"hello feed",
                X_Seen_Host=self.headers.get("Host", ""),
                X_Seen_UA=self.headers.get("User-Agent", ""),
            )
        elif path == "/404":
            self._send(404, b"nope")
        elif path == "/500":
            self._send(500, b"boom")
        elif path == "/slow":
            time.sleep(2.0)
            self._send(200, b"late")
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        elif path == "/big":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()  # no Content-Length: the body length is only known by reading
            try:
                self.wfile.write(b"a" * 50_000)
            except OSError:
                pass
            self.close_connection = True
        elif path == "/big-cl":
            self._send(200, b"tiny", Content_Length="999999999")
        elif path == "/bomb":
            self._send(200, BOMB, Content_Encoding="gzip")
        elif path == "/gzip":
            self._send(200, gzip.compress("مرحبا gzip".encode()), Content_Encoding="gzip")
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            self._send(302, Location="/ok" if n == 0 else f"/chain/{n - 1}")
        elif path == "/loop":
            self._send(302, Location="/loop")
        elif path == "/to-other-host":
            self._send(301, Location=f"http://b.example:{self.server.server_port}/ok")
        elif path == "/to-metadata":
            self._send(302, Location="http://169.254.169.254/latest/meta-data/")
        elif path == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                self._send(304, ETag='"v1"')
            else:
                self._send(
                    200, b"fresh", ETag='"v1"', Last_Modified="Mon, 13 May 2024 08:00:00 GMT"
                )
        else:
            self._send(404)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # client hung up: expected
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadingHTTPServer]:
    srv = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _settings(**kw: object) -> Settings:
    base = dict(allow_private_networks=True, fetch_timeout=0.5, max_page_bytes=10_000)
    base.update(kw)
    return Settings().replace(**base)


def _url(server: ThreadingHTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_port}{path}"


def _reason(fetcher: Fetcher, url: str, **kw: object) -> str:
    with pytest.raises(FetchError) as err:
        fetcher.fetch(url, **kw)
    return err.value.reason


def test_success_returns_body_headers_and_utc_time(server):
    with Fetcher(_settings()) as f:
        r = f.fetch(_url(server, "/ok"), accept="text/plain")
    assert r.status == 200 and r.body == b"hello feed"
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["x-seen-ua"].startswith("newsflow/")
    assert r.final_url == _url(server, "/ok")
    assert r.fetched_at.tzinfo is not None and r.fetched_at.utcoffset().total_seconds() == 0
    assert r.elapsed_ms > 0


def test_http_errors_carry_status(server):
    with Fetcher(_settings()) as f:
        assert _reason(f, _url(server, "/404")) == "http_404"
        assert _reason(f, _url(server, "/500")) == "http_500"


def test_slow_server_times_out(server):
    t0 = time.monotonic()
    with Fetcher(_settings()) as f:
        assert _reason(f, _url(server, "/slow")) == "timeout"
    assert time.monotonic() - t0 < 1.8


def test_dripping_server_hits_total_deadline(server):
    # every byte arrives well within the 0.5 s read timeout; only the total deadline stops it
    t0 = time.monotonic()
    with Fetcher(_settings(), total_timeout=1.0) as f:
        assert _reason(f, _url(server, "/drip")) == "timeout"
    assert time.monotonic() - t0 < 1.6


def test_size_limits(server):
    with Fetcher(_settings()) as f:
        assert _reason(f, _url(server, "/big")) == "too_large"
        assert _reason(f, _url(server, "/big-cl")) == "too_large"
        assert _reason(f, _url(server, "/bomb")) == "too_large"
        assert f.fetch(_url(server, "/big"), max_bytes=60_000).body == b"a" * 50_000


def test_gzip_is_decoded(server):
    with Fetcher(_settings()) as f:
        assert f.fetch(_url(server, "/gzip")).body.decode() == "مرحبا gzip"


def test_redirect_chain_and_loop(server):
    with Fetcher(_settings(max_redirects=5)) as f:
        r = f.fetch(_url(server, "/chain/4"))
        assert r.body == b"hello feed" and r.final_url == _url(server, "/ok")
        assert _reason(f, _url(server, "/loop")) == "too_many_redirects"
        assert _reason(f, _url(server, "/chain/7")) == "too_many_redirects"


def test_loopback_blocked_by_default_and_allowed_by_setting(server):
    with Fetcher(_settings(allow_private_networks=False)) as f:
        assert _reason(f, _url(server, "/ok")) == "blocked_address"
        # by name too: the guard looks at what DNS answers
        assert _reason(f, f"http://localhost:{server.server_port}/ok") == "blocked_address"
    with Fetcher(_settings(allow_private_networks=True)) as f:
        assert f.fetch(_url(server, "/ok")).status == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/feed",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
    ],
)
def test_private_and_metadata_addresses_blocked(url):
    with Fetcher(_settings(allow_private_networks=False)) as f:
        assert _reason(f, url) == "blocked_address"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "http://",
        "http://u:p@example.com/",
        "not a url",
    ],
)
def test_bad_urls(url):
    with Fetcher(_settings()) as f:
        assert _reason(f, url) == "bad_url"


def test_redirect_to_private_address_blocked_when_disallowed():
    """The first hop is a public IP (answered by an in-process transport, no network);
    the redirect points at the metadata service and must be refused by the guard."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})

    with Fetcher(
        _settings(allow_private_networks=False), transport=httpx.MockTransport(handler)
    ) as f:
        assert _reason(f, "http://93.184.215.14/feed") == "blocked_address"
    assert seen == ["http://93.184.215.14/feed"]  # nothing was ever sent to the metadata IP


def test_redirect_hops_are_resolved_again(server):
    # Each hop goes back through the guard's resolution: here ``resolve`` sends the
    # redirect target to a closed port, proving the second hop was not connected blindly.
    settings = _settings(resolve={"169.254.169.254": "127.0.0.1:9"})
    with Fetcher(settings) as f:
        assert _reason(f, _url(server, "/to-metadata")) == "connection_failed"


def test_resolve_mapping_pins_host_and_sends_host_header(server):
    settings = _settings(resolve={"*.example": f"127.0.0.1:{server.server_port}"})
    with Fetcher(settings) as f:
        r = f.fetch("http://news.example/ok")
        assert r.headers["x-seen-host"] == "news.example"
        assert r.final_url == "http://news.example/ok"
        # a redirect to another mapped host keeps the real name in final_url
        r2 = f.fetch("http://a.example/to-other-host")
        assert r2.final_url == f"http://b.example:{server.server_port}/ok"
        assert r2.headers["x-seen-host"] == f"b.example:{server.server_port}"
    with Fetcher(settings.replace(allow_private_networks=False)) as f:
        assert _reason(f, "http://news.example/ok") == "blocked_address"


def test_conditional_get_returns_304(server):
    with Fetcher(_settings()) as f:
        first = f.fetch(_url(server, "/etag"))
        assert first.status == 200 and first.headers["etag"] == '"v1"'
        second = f.fetch(
            _url(server, "/etag"),
            etag=first.headers["etag"],
            last_modified=first.headers["last-modified"],
        )
        assert second.status == 304 and second.body == b""


def test_connection_refused(server):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with Fetcher(_settings()) as f:
        assert _reason(f, f"http://127.0.0.1:{port}/") == "connection_failed"


def test_dns_failure():
    with Fetcher(_settings()) as f:
        assert _reason(f, "http://does-not-exist.invalid/") == "dns_failed"


# --- TLS: the pinned IP connection must still verify the certificate for the real name


def _make_tls(tmp_path):
    import datetime as dt
    import ssl

    need(importlib.util.find_spec("cryptography") is not None,
         "cryptography is not installed (it ships with the test extras: airflow depends on it)")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsflow test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "secure.example")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("secure.example")]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_file, key_file)
    client_ctx = ssl.create_default_context()
    client_ctx.load_verify_locations(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server_ctx, client_ctx


def test_https_verifies_certificate_against_real_hostname(tmp_path):
    server_ctx, client_ctx = _make_tls(tmp_path)
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.socket = server_ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        target = f"127.0.0.1:{srv.server_port}"
        settings = _settings(resolve={"secure.example": target, "wrong.example": target})
        with Fetcher(settings, verify=client_ctx) as f:
            r = f.fetch("https://secure.example/ok")
            assert r.body == b"hello feed" and r.headers["x-seen-host"] == "secure.example"
            assert r.final_url == "https://secure.example/ok"
            # same IP, but the certificate does not cover this name: must fail
            assert _reason(f, "https://wrong.example/ok") == "connection_failed"
    finally:
        srv.shutdown()
        srv.server_close()
