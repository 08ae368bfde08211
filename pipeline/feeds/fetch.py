"""One HTTP GET of an untrusted URL (feeds and article pages), safely.

What "safely" means here, and why each rule exists:

* only http/https, no credentials in URLs;
* the SSRF guard (:mod:`pipeline.feeds.guard`) resolves the host once, refuses
  non-public addresses unless ``allow_private_networks``, and we then connect to that
  checked IP (``scheme://ip:port/path`` + ``Host`` header + TLS ``sni_hostname``), so
  DNS cannot answer differently a second time;
* redirects are followed by hand (at most ``max_redirects``) and every hop is guarded;
* ``fetch_timeout`` bounds each connect/read, and a total deadline
  (``TOTAL_TIMEOUT_FACTOR * fetch_timeout``) bounds the whole exchange, redirects
  included, against servers that drip bytes;
* bodies are streamed and cut at ``max_bytes`` counted AFTER gzip/deflate decoding;
* no proxies from the environment, no cookies (they would be keyed by IP, not host).

One attempt only: retry policy belongs to the caller.  Failures raise
:class:`pipeline.models.FetchError` whose ``reason`` is one of ``bad_url``,
``blocked_address``, ``dns_failed``, ``connection_failed``, ``timeout``, ``too_large``,
``too_many_redirects``, ``bad_content_encoding`` or ``http_<status>``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any

import httpx

from pipeline.config import Settings
from pipeline.models import FetchError, FetchResult

from .guard import choose_target, parse_networks, parse_resolve
from .transport import DEADLINE, PINNED, BodyDecoder, GuardedTransport

TOTAL_TIMEOUT_FACTOR = 3.0
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
PERMANENT_CODES = frozenset({301, 308})


class HTTPStatusError(FetchError):
    """A non-2xx, non-304 answer; keeps status and headers (``Retry-After``) for the caller."""

    def __init__(self, message: str, status: int, headers: dict[str, str]):
        super().__init__(message, f"http_{status}")
        self.status = status
        self.headers = headers


class Fetcher:
    """Safe single-attempt GETs.  Thread-safe; reuse one per process or task.

    ``transport`` replaces the guarded network transport (e.g. ``httpx.MockTransport``);
    the guard, redirects, limits and decoding still apply, the per-read deadline does not.
    ``total_timeout`` overrides the whole-exchange deadline.
    """

    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        total_timeout: float | None = None,
        verify: Any = True,
    ):
        self.settings = settings
        self._resolve = parse_resolve(settings.resolve or {})
        self._allow_networks = parse_networks(settings.allow_networks)
        self._total = total_timeout or settings.fetch_timeout * TOTAL_TIMEOUT_FACTOR
        self._client = httpx.Client(
            transport=transport or GuardedTransport(verify=verify),
            timeout=httpx.Timeout(settings.fetch_timeout),
            follow_redirects=False,
            trust_env=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fetch(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """GET ``url``; 2xx and 304 return a result, everything else raises FetchError."""
        limit = max_bytes or self.settings.max_page_bytes
        started = time.monotonic()
        token = DEADLINE.set(started + self._total)
        headers = {
            "User-Agent": self.settings.user_agent,
            "Accept": accept or "*/*",
            "Accept-Encoding": "gzip, deflate",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            current = _check_url(url)
            permanent: str | None = None
            still_permanent = True
            for hop in range(self.settings.max_redirects + 1):
                outcome = self._exchange(current, headers, limit, started)
                if isinstance(outcome, tuple) and len(outcome) == 2:
                    current, code = outcome
                    still_permanent = still_permanent and code in PERMANENT_CODES
                    if still_permanent:
                        permanent = str(current)
                    continue
                status, resp_headers, body = outcome
                return FetchResult(
                    url=url,
                    final_url=str(current),
                    status=status,
                    headers=resp_headers,
                    body=body,
                    fetched_at=datetime.now(UTC),
                    elapsed_ms=(time.monotonic() - started) * 1000.0,
                    permanent_url=permanent,
                    redirects=hop,
                )
            raise FetchError(
                f"more than {self.settings.max_redirects} redirects from {url}",
                "too_many_redirects",
            )
        finally:
            DEADLINE.reset(token)

    def post_form(self, url: str, form: dict[str, str], *, max_bytes: int = 65536) -> FetchResult:
        """POST a form through the same guard, deadline and limits as a GET (a WebSub hub
        named by a feed is hostile input too); 2xx returns, a redirect or error raises."""
        from urllib.parse import urlencode

        started = time.monotonic()
        token = DEADLINE.set(started + self._total)
        headers = {"User-Agent": self.settings.user_agent, "Accept": "*/*",
                   "Content-Type": "application/x-www-form-urlencoded"}
        try:
            current = _check_url(url)
            outcome = self._exchange(current, headers, max_bytes, started, method="POST",
                                     content=urlencode(form).encode())
            if len(outcome) == 2:
                raise FetchError(f"hub {url} answered with a redirect", "bad_status")
            status, resp_headers, body = outcome
            return FetchResult(url=url, final_url=str(current), status=status, headers=resp_headers, body=body,
                               fetched_at=datetime.now(UTC), elapsed_ms=(time.monotonic() - started) * 1000.0)
        finally:
            DEADLINE.reset(token)

    def _exchange(
        self, url: httpx.URL, headers: dict[str, str], limit: int, started: float,
        method: str = "GET", content: bytes | None = None,
    ) -> tuple[httpx.URL, int] | tuple[int, dict[str, str], bytes]:
        """One request/response: (redirect target, code), or (status, headers, body)."""
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        remaining = started + self._total - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"deadline exceeded before requesting {url}", "timeout")
        target = choose_target(
            host,
            port,
            resolve=self._resolve,
            allow_private=self.settings.allow_private_networks,
            allow_networks=self._allow_networks,
            timeout=min(self.settings.fetch_timeout, remaining),
        )
        pinned_url = url.copy_with(host=str(target.ip), port=target.port, fragment=None)
        host_header = host if url.port is None else f"{host}:{url.port}"
        extensions = {"sni_hostname": host} if url.scheme == "https" else {}
        request = self._client.build_request(
            method, pinned_url, headers={**headers, "Host": host_header}, extensions=extensions, content=content
        )
        pin = PINNED.set(str(target.ip))
        try:
            response = self._client.send(request, stream=True)
            try:
                return self._read(url, response, limit, started)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise FetchError(f"timeout fetching {url}: {exc}", "timeout") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise FetchError(f"bad URL {url}: {exc}", "bad_url") from None
        except httpx.HTTPError as exc:
            raise FetchError(
                f"connection to {host} ({target.netloc}) failed: {type(exc).__name__}: {exc}",
                "connection_failed",
            ) from None
        finally:
            PINNED.reset(pin)

    def _read(
        self, url: httpx.URL, response: httpx.Response, limit: int, started: float
    ) -> tuple[httpx.URL, int] | tuple[int, dict[str, str], bytes]:
        status = response.status_code
        resp_headers = {k.lower(): v for k, v in response.headers.items()}
        if status in REDIRECT_CODES and response.headers.get("location"):
            try:
                return _check_url(str(url.join(response.headers["location"].strip()))), status
            except httpx.InvalidURL as exc:
                raise FetchError(f"bad redirect from {url}: {exc}", "bad_url") from None
        if status == 304:
            return status, resp_headers, b""
        if not 200 <= status < 300:
            raise HTTPStatusError(f"HTTP {status} from {url}", status, resp_headers)
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"Content-Length {declared} exceeds {limit} bytes", "too_large")
        decoder = BodyDecoder(response.headers.get("content-encoding"), limit)
        raw_total = 0
        for chunk in response.iter_raw():
            raw_total += len(chunk)
            if raw_total > limit:
                raise FetchError(f"body exceeds {limit} bytes", "too_large")
            decoder.feed(chunk)
            if time.monotonic() - started > self._total:
                raise FetchError(f"total deadline {self._total:.1f}s exceeded for {url}", "timeout")
        return status, resp_headers, decoder.finish()


def _check_url(url: str | httpx.URL) -> httpx.URL:
    """Parse and vet a URL: http(s), a host, no userinfo."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"invalid URL {str(url)[:200]!r}: {exc}", "bad_url") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"scheme {parsed.scheme!r} not allowed: {str(url)[:200]}", "bad_url")
    if not parsed.raw_host:
        raise FetchError(f"URL has no host: {str(url)[:200]}", "bad_url")
    if parsed.userinfo:
        raise FetchError("credentials in URLs are not allowed", "bad_url")
    return parsed
