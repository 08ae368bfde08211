"""JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1), parsed by us.

feedparser does not read JSON Feed.  The format is small, so a strict-but-forgiving reader
is short: the top level must be an object with a jsonfeed ``version`` URL and an
``items`` list; an item without ``id`` is skipped with a warning (the spec requires it);
wrong types give ``feed_invalid`` with the path of the offending value.  HTML is
sanitized here because nobody upstream did it.  The produced entries have the same shape
as the RSS/Atom ones; identity (guid) is assigned by :mod:`pipeline.feeds.entries`.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any

from pipeline.models import FeedParseError

from .entries import RawEntry
from .sanitize import html_to_text, sanitize_html

_VERSION = re.compile(r"^https?://jsonfeed\.org/version/(1(?:\.\d+)?)/?$")
_VERSION_HINT = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/')
JSON_TYPES = ("application/feed+json", "application/json")


def looks_like_jsonfeed(body: bytes, content_type: str | None) -> bool:
    """Content-type says JSON, or the body is an object naming a jsonfeed version URL."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in JSON_TYPES:
        return True
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and bool(_VERSION_HINT.search(body[:65536]))


def _str(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    raise FeedParseError(f"JSON Feed: {where} must be a string, got {type(value).__name__}")


def parse_date(value: Any, where: str, warnings: list[str]) -> datetime | None:
    """RFC 3339 to aware UTC; an unparseable date is a warning, not an invented value."""
    text = _str(value, where)
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        warnings.append(f"{where}: unparseable date {text[:40]!r}")
        return None
    if dt.tzinfo is None:
        warnings.append(f"{where}: date without timezone, taken as UTC")
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _authors(obj: dict[str, Any], where: str) -> list[str]:
    raw = obj.get("authors")
    if raw is None and isinstance(obj.get("author"), dict):
        raw = [obj["author"]]  # JSON Feed 1.0
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FeedParseError(f"JSON Feed: {where}.authors must be a list")
    names = []
    for i, a in enumerate(raw):
        if isinstance(a, dict):
            name = _str(a.get("name"), f"{where}.authors[{i}].name")
            if name and name.strip():
                names.append(name.strip())
    return names


def parse_jsonfeed(
    body: bytes, url: str
) -> tuple[str, str | None, str | None, list[RawEntry], list[str]]:
    """Returns (format, title, language, raw entries, warnings) or raises ``feed_invalid``."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FeedParseError(f"JSON Feed is not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise FeedParseError(f"JSON Feed is not valid JSON: {exc}") from None
    except RecursionError:
        raise FeedParseError("JSON Feed nests too deeply") from None
    if not isinstance(doc, dict):
        raise FeedParseError("JSON Feed: top level must be an object")
    version = doc.get("version")
    m = _VERSION.match(version) if isinstance(version, str) else None
    if not m:
        raise FeedParseError(f"JSON Feed: missing or unknown version {str(version)[:80]!r}")
    fmt = "jsonfeed10" if m.group(1) == "1" else "jsonfeed11"
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedParseError("JSON Feed: 'items' must be a list")
    title = _str(doc.get("title"), "title")
    language = _str(doc.get("language"), "language")
    feed_authors = _authors(doc, "feed")
    warnings: list[str] = []
    entries: list[RawEntry] = []
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict):
            raise FeedParseError(f"JSON Feed: {where} must be an object")
        raw_id = item.get("id")
        if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
            raw_id = str(raw_id)  # common in the wild although the spec says string
        item_id = _str(raw_id, f"{where}.id")
        if not item_id or not item_id.strip():
            warnings.append(f"{where}: no id")
        content_html = _str(item.get("content_html"), f"{where}.content_html")
        content_text = _str(item.get("content_text"), f"{where}.content_text")
        if not content_html and content_text:
            content_html = "<p>" + html.escape(content_text).replace("\n\n", "</p><p>") + "</p>"
        summary = _str(item.get("summary"), f"{where}.summary")
        tags = item.get("tags") or []
        if not isinstance(tags, list):
            raise FeedParseError(f"JSON Feed: {where}.tags must be a list")
        entries.append(
            RawEntry(
                guid=(item_id or "").strip() or None,
                link=_str(item.get("url"), f"{where}.url")
                or _str(item.get("external_url"), f"{where}.external_url"),
                title=html_to_text(_str(item.get("title"), f"{where}.title")),
                summary_html=html.escape(summary) if summary else "",
                content_html=sanitize_html(content_html, url),
                published=parse_date(
                    item.get("date_published"), f"{where}.date_published", warnings
                )
                or parse_date(item.get("date_modified"), f"{where}.date_modified", warnings),
                authors=_authors(item, where) or feed_authors,
                tags=[t.strip() for t in tags if isinstance(t, str) and t.strip()],
                updated=parse_date(item.get("date_modified"), f"{where}.date_modified", warnings),
            )
        )
    return fmt, title.strip() if title else None, language, entries, warnings
