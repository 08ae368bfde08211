"""Canonical URLs, stable article ids and source domains.

One article must get one id however a feed, a share button or a redirect spelled its URL,
so the canonical form drops what does not identify the document (fragment, default port,
tracking parameters) and fixes what is spelled freely (case of scheme and host, order of
query parameters, percent-encoding).  A page's own ``rel=canonical`` / ``og:url`` is
preferred, but only when it stays on the same site: untrusted pages must not be able to
claim another outlet's URL (and so its article id).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only say where a click came from.
_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid",
        "_ga", "_gl", "ref", "ref_src", "ref_url", "cmpid", "ocid", "yclid", "spm",
        "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
        "twclid", "ttclid", "wt.mc_id", "mkt_tok", "_hsenc", "_hsmi", "hsctatracking",
        "vero_id", "oly_enc_id", "oly_anon_id", "rb_clickid", "s_cid", "cid_source",
        "smid", "smtyp", "xtor", "guccounter", "guce_referrer", "guce_referrer_sig",
    }
)
# Deliberately absent: generic names (``source``, ``src``, ``output``, ``id``) that some
# sites use to select content; dropping them could merge two articles into one id.
# Prefixes catch families (utm_source, utm_medium, ...).
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "piwik_", "mtm_", "hmb_", "ns_", "trk_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SITE_PREFIXES = ("www.", "m.", "amp.", "mobile.")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIXES)


def _normalize_pct(component: str, safe: str) -> str:
    """Decode escapes of unreserved characters, upper-case the rest, escape raw non-ASCII."""

    def fix(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    component = _PCT.sub(fix, component)
    # Escape anything that is neither safe nor an existing escape (spaces, non-ASCII).
    return quote(component, safe=safe + "%")


def _host(netloc_host: str) -> str:
    host = netloc_host.strip().rstrip(".").lower()
    if not host:
        return host
    if host.startswith("[") or all(c.isascii() for c in host):
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return quote(host, safe="")


def _normalize(url: str) -> str:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = _host(parts.hostname or "")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host
    # Credentials (user:pass@) are never part of an article's identity: not kept.
    if port and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    path = _normalize_pct(parts.path or "/", safe="/:@!$&'()*+,;=-._~")
    if not path.startswith("/"):
        path = "/" + path
    pairs = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k and not _is_tracking(k)
    ]
    pairs.sort()
    query = urlencode(pairs, doseq=True, quote_via=quote, safe="/:@!$'()*+,;-._~")
    return urlunsplit((scheme, netloc, path, query, ""))


def site_key(host: str) -> str:
    """Host with one leading ``www.``/``m.``/``amp.``/``mobile.`` removed, lowercased."""
    host = _host(host)
    for prefix in _SITE_PREFIXES:
        if host.startswith(prefix):
            return host[len(prefix):]
    return host


def canonicalize_url(url: str, page_canonical: str | None = None) -> str:
    """The canonical form of ``url``, or of the page's declared canonical on the same site.

    ``page_canonical`` may be relative; it is resolved against ``url``.  It is ignored
    unless it is http(s) on the same host modulo ``www.``/``m.``/``amp.`` prefixes.
    """
    base = _normalize(url)
    if page_canonical and page_canonical.strip():
        try:
            resolved = urljoin(url.strip(), page_canonical.strip())
            candidate = _normalize(resolved)
        except ValueError:
            return base
        cparts, bparts = urlsplit(candidate), urlsplit(base)
        if (
            cparts.scheme in ("http", "https")
            and cparts.hostname
            and site_key(cparts.hostname) == site_key(bparts.hostname or "")
        ):
            return candidate
    return base


def article_id_for(canonical_url: str) -> str:
    """Stable id: first 16 hex characters of sha256 of the canonical URL (UTF-8)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def source_domain(url: str) -> str:
    """Lowercased host without a leading ``www.``; ``""`` when the URL has no host."""
    host = _host(urlsplit(url.strip()).hostname or "")
    return host[4:] if host.startswith("www.") else host


__all__ = ["article_id_for", "canonicalize_url", "site_key", "source_domain"]
