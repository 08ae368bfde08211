"""Browser sign-in for the HTML pages: an HttpOnly session cookie made from an API key.

Why a cookie: a browser cannot put ``X-API-Key`` on a link an editor clicks, and pages
are shared as links.  Why derived from the key (not a server-side session table): the API
runs as several stateless workers; a cookie that is a keyed hash of a configured key is
valid in every worker, never reveals the key (it is one-way), and dies with the key when
an operator removes it from ``api_keys``.  The cookie is ``HttpOnly`` (scripts cannot
read it), ``SameSite=Strict`` (other sites cannot ride on it) and ``Secure`` behind HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

COOKIE = "newsflow_session"
MAX_AGE = 12 * 3600  # seconds: a working day; sign in again after that


def cookie_value(key: str) -> str:
    return "v1." + hashlib.sha256(b"newsflow-session\0" + key.encode("utf-8")).hexdigest()


def valid(cookie: str | None, keys: Iterable[str]) -> bool:
    if not cookie:
        return False
    return any(hmac.compare_digest(cookie, cookie_value(k)) for k in keys)


def cookie_header(key: str, secure: bool) -> str:
    flags = f"Path=/; Max-Age={MAX_AGE}; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
    return f"{COOKIE}={cookie_value(key)}; {flags}"


def clear_header(secure: bool) -> str:
    return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")


def safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/stories"
    return target
