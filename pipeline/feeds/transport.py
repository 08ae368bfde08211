"""httpx transport pieces the fetcher needs: a hard deadline, pinned connects, safe decoding.

Why our own network backend: httpx timeouts are per socket operation, so a server that
drips one byte per second never trips a 10 s read timeout.  Wrapping httpcore's backend
lets every connect/read/write/TLS handshake use ``min(its timeout, time left)`` under a
per-request deadline held in a context variable, which covers the header phase too.  The
same wrapper refuses to connect to any address other than the one the SSRF guard
approved for the current request (belt and braces against anything resolving again).
"""

from __future__ import annotations

import contextvars
import time
import zlib
from typing import Any

import httpcore
import httpx

from pipeline.models import FetchError

DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "newsflow_fetch_deadline", default=None
)
PINNED: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "newsflow_fetch_pinned_ip", default=None
)


def _left(timeout: float | None, exc: type[Exception]) -> float | None:
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc("total fetch deadline exceeded")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        pinned = PINNED.get()
        if pinned is not None and host.strip("[]") != pinned:
            raise httpcore.ConnectError(f"refusing unapproved connect to {host}")
        stream = self._inner.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:  # noqa: E501
        raise httpcore.ConnectError("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections go through :class:`_GuardedBackend`.

    Keep-alive is off: connections are keyed by IP, and reusing a TLS connection made
    for one host name (SNI) for another name on the same IP would skip its certificate
    check.  ``verify`` is passed to httpx (tests give an ``ssl.SSLContext`` with their CA).
    """

    def __init__(self, verify: Any = True) -> None:
        super().__init__(verify=verify, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=100,
            max_keepalive_connections=0,
            network_backend=_GuardedBackend(),
        )


class BodyDecoder:
    """Streaming gzip/deflate decoding that counts DECODED bytes against a limit.

    We ask for ``Accept-Encoding: gzip, deflate`` and decode ourselves with zlib's
    ``max_length`` so a 10 KB gzip bomb never inflates past ``limit + 1`` bytes in memory.
    """

    def __init__(self, content_encoding: str | None, limit: int):
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchError(
                f"unsupported Content-Encoding {content_encoding!r}", "bad_content_encoding"
            )
        self._coding = codings[0] if codings else None
        self._wbits = 31 if self._coding in ("gzip", "x-gzip") else 15
        self._z = zlib.decompressobj(self._wbits) if self._coding else None
        self._limit = limit
        self._produced = 0
        self._started = False
        self._done = False
        self._members = 0
        self._parts: list[bytes] = []

    def _take(self, piece: bytes) -> None:
        self._produced += len(piece)
        if self._produced > self._limit:
            raise FetchError(f"body exceeds {self._limit} bytes (decoded)", "too_large")
        self._parts.append(piece)

    def feed(self, data: bytes) -> None:
        if self._z is None:
            if not self._done:
                self._take(data)
            return
        while data and not self._done:
            try:
                piece = self._z.decompress(data, self._limit - self._produced + 1)
            except zlib.error as exc:
                if self._coding == "deflate" and not self._started and self._wbits == 15:
                    self._wbits, self._z = -15, zlib.decompressobj(-15)  # raw deflate
                    continue
                if self._members:
                    self._done = True  # trailing garbage after a complete member
                    return
                raise FetchError(
                    f"corrupt {self._coding} body: {exc}", "bad_content_encoding"
                ) from None
            self._started = True
            self._take(piece)
            data = self._z.unconsumed_tail
            if self._z.eof:
                self._members += 1
                rest = self._z.unused_data
                if rest.strip(b"\0"):
                    self._z = zlib.decompressobj(self._wbits)  # next gzip member
                    data = rest
                else:
                    self._done = True

    def finish(self) -> bytes:
        if self._z is not None and not self._done:
            try:
                self._take(self._z.flush())
            except zlib.error as exc:
                raise FetchError(
                    f"corrupt {self._coding} body: {exc}", "bad_content_encoding"
                ) from None
        return b"".join(self._parts)
