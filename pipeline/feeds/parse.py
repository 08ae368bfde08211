"""Feed bytes to :class:`pipeline.models.ParsedFeed` (RSS 0.9x/1.0/2.0, Atom, JSON Feed).

Safety: feedparser only ever receives bytes we fetched (never a URL, which it would open
itself, without timeout).  Before it sees them, any prolog that declares an ENTITY is
refused with reason ``xml_entities`` (see :mod:`pipeline.feeds.xmlsafe`; the one
exception is a DOCTYPE that only pulls in the W3C XHTML entity sets, common in Drupal
feeds, which is removed rather than refused); feedparser
additionally strips DOCTYPEs and disables external general entities in its SAX parser.

Encoding: BOM, then HTTP charset, then XML declaration, then UTF-8 (details and reasons
in :mod:`pipeline.feeds.encoding`).  We decode, re-encode as UTF-8 and tell feedparser
so, which makes its behaviour independent of RFC 3023's text/xml quirks.

Links: feedparser gets no base URL, so it applies only the feed's own ``xml:base``; we
then resolve what is still relative against the feed URL ourselves (entry links, and the
links inside summary/content HTML).  Why: given a base, feedparser also rewrites RSS
``<guid>`` values without ``isPermaLink="false"`` into URLs under it ("123" becomes
"https://site/feeds/123"), which would tie an item's identity to the URL we fetched it
from.  Summary/content HTML, already sanitized by feedparser, is sanitized a second time
by :func:`pipeline.feeds.sanitize.sanitize_html` (which also drops ``javascript:``
links feedparser would keep without a base).

Bozo feeds keep whatever entries feedparser recovered, with a warning.  A document that
is neither a recognisable feed nor yields entries (an HTML page, garbage) is
``feed_invalid`` with feedparser's underlying message.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import feedparser

from pipeline.models import FeedParseError, ParsedFeed

from .encoding import as_utf8_xml, decode
from .entries import RawEntry, finalize, primary_language
from .jsonfeed import looks_like_jsonfeed, parse_jsonfeed
from .sanitize import html_to_text, sanitize_html
from .xmlsafe import declares_entities, strip_w3c_entity_doctype

_FORMATS = {
    "rss20": "rss20",
    "rss": "rss20",  # RSS without a version attribute: read as 2.0
    "rss10": "rss10",
    "rss090": "rss09x",
    "rss091n": "rss09x",
    "rss091u": "rss09x",
    "rss092": "rss09x",
    "rss093": "rss09x",
    "rss094": "rss09x",
    "atom10": "atom10",
    "atom03": "atom03",
    "atom02": "atom03",
    "atom01": "atom03",
    "atom": "atom10",
}
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse fetched feed bytes; ``url`` is the feed's (final) URL, the base for links.

    Raises :class:`FeedParseError` with reason ``feed_invalid`` or ``xml_entities``.
    """
    if not body or not body.strip():
        raise FeedParseError("empty document", "feed_invalid")
    if looks_like_jsonfeed(body, content_type):
        fmt, title, language, raw, warnings = parse_jsonfeed(body, url)
        lang = primary_language(language)
        return ParsedFeed(url, fmt, title, lang, finalize(raw, url, url, lang), warnings)
    decoded = decode(body, content_type)
    warnings = list(decoded.warnings)
    text, stripped = strip_w3c_entity_doctype(decoded.text)
    if stripped:
        warnings.append("removed DOCTYPE that loads the W3C XHTML entity sets")
    if declares_entities(text):
        raise FeedParseError("document declares XML entities; refused", "xml_entities")
    try:
        d = feedparser.parse(
            as_utf8_xml(text),
            response_headers={
                "content-type": "application/xml; charset=utf-8",
            },
            resolve_relative_uris=True,
            sanitize_html=True,
        )
    except Exception as exc:  # feedparser is a large legacy codebase; contain its surprises
        raise FeedParseError(f"feedparser crashed: {type(exc).__name__}: {exc}") from None
    version = d.get("version") or ""
    feed = d.get("feed") or {}
    entries = d.get("entries") or []
    problem = d.get("bozo_exception")
    if not version and not entries:
        why = f": {type(problem).__name__}: {problem}" if problem else ""
        raise FeedParseError(f"not a recognisable RSS/Atom/JSON feed{why}"[:500], "feed_invalid")
    if d.get("bozo"):
        warnings.append(f"bozo: {type(problem).__name__}: {problem}"[:300])
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _HTML_TYPES:
        warnings.append(f"served as {mime}")
    if not version:
        warnings.append("feed format not recognised; entries recovered anyway")
    lang = primary_language(feed.get("language"))
    title = html_to_text(feed.get("title")) or None
    raw = [_raw_entry(e, url) for e in entries]
    fmt = _FORMATS.get(version, version or "unknown")
    parsed = ParsedFeed(url, fmt, title, lang, finalize(raw, url, url, lang), warnings)
    parsed.ttl_minutes = _ttl(feed.get("ttl"))
    return parsed


def _ttl(value: Any) -> int | None:
    """RSS ``<ttl>`` in minutes (a polling hint); junk or non-positive values -> None."""
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes if 0 < minutes <= 7 * 24 * 60 else None


def _utc(parsed: Any) -> datetime | None:
    """feedparser's struct_time is already normalised to UTC."""
    if not parsed:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _as_html(value: str | None, detail: Any) -> str:
    """feedparser gives HTML (sanitized) or plain text; always hand on HTML."""
    if not value:
        return ""
    mime = (detail or {}).get("type") or "text/html"
    return html.escape(value) if mime == "text/plain" else value


def _raw_entry(e: Any, url: str) -> RawEntry:
    content_html = ""
    for c in e.get("content") or []:
        if c.get("value"):
            content_html = _as_html(c.get("value"), c)
            if c.get("type") in ("text/html", "application/xhtml+xml"):
                break
    title = e.get("title") or ""
    if (e.get("title_detail") or {}).get("type") != "text/plain":
        title = html_to_text(title)
    authors = [a.get("name") or a.get("email") or "" for a in e.get("authors") or []]
    if not any(authors) and e.get("author"):
        authors = [e.get("author")]
    tags = [(t.get("term") or t.get("label") or "").strip() for t in e.get("tags") or []]
    link = e.get("link")
    if not link:
        for candidate in e.get("links") or []:
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    return RawEntry(
        guid=(e.get("id") or "").strip() or None,
        link=link,
        title=" ".join(title.split()),
        summary_html=sanitize_html(_as_html(e.get("summary"), e.get("summary_detail")), url),
        content_html=sanitize_html(content_html, url),
        # dict.get: FeedParserDict.get would map published->updated with a warning
        published=_utc(dict.get(e, "published_parsed")) or _utc(dict.get(e, "updated_parsed")),
        authors=[a.strip() for a in authors if a and a.strip()],
        tags=[t for t in tags if t],
        updated=_utc(dict.get(e, "updated_parsed")),
    )
