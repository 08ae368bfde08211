"""From format-specific raw items to :class:`pipeline.models.Entry`: links, identity, language.

Shared by the feedparser path and the JSON Feed path so both obey one set of rules:
links are absolute http(s) URLs or None; identity (``guid``) is the feed's GUID/id, else
the link, else a hash of title and content; GUIDs repeated inside one feed are made
distinct so different items never collapse into one.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from pipeline.models import Entry

_LANG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


@dataclass
class RawEntry:
    guid: str | None
    link: str | None
    title: str
    summary_html: str = ""
    content_html: str = ""
    published: datetime | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    updated: datetime | None = None


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def absolute_link(link: str | None, base: str) -> str | None:
    """``link`` resolved against ``base``; None unless the result is an http(s) URL."""
    if not link or not link.strip():
        return None
    try:
        full = urljoin(base, link.strip())
        parts = urlsplit(full)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return full


def primary_language(tag: str | None) -> str | None:
    """``"ar-SA"`` / ``"IT-it"`` / ``"en_US"`` -> ``"ar"`` / ``"it"`` / ``"en"``; junk -> None."""
    if not tag:
        return None
    m = _LANG.match(tag.strip())
    return m.group(1).lower() if m else None


def _dedup(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def finalize(raw: list[RawEntry], feed_url: str, base: str, language: str | None) -> list[Entry]:
    """Absolute links, stable and unique-per-item guids, feed language on every entry."""
    links = [absolute_link(r.link, base) for r in raw]
    guids = []
    for r, link in zip(raw, links, strict=True):
        guid = (r.guid or "").strip() or link or _sha(r.title, r.content_html or r.summary_html)
        guids.append(guid)
    counts = Counter(guids)
    if any(c > 1 for c in counts.values()):
        # Several items claim one GUID (broken CMS templates do this): tell them apart by
        # link, then by link+title+content, so distinct items stay distinct.
        for rounds in (1, 2):
            for i, (r, link) in enumerate(zip(raw, links, strict=True)):
                if counts[guids[i]] > 1:
                    body = r.content_html or r.summary_html
                    key = (link or "") if rounds == 1 else f"{link}|{r.title}|{body}"
                    guids[i] = f"{guids[i]}#{_sha(key)[:16]}"
            counts = Counter(guids)
            if all(c == 1 for c in counts.values()):
                break
    return [
        Entry(
            feed_url=feed_url,
            guid=guid,
            link=link,
            title=r.title,
            summary_html=r.summary_html,
            content_html=r.content_html,
            published=r.published,
            authors=_dedup(r.authors),
            language=language,
            tags=_dedup(r.tags),
            updated=r.updated,
        )
        for r, link, guid in zip(raw, links, guids, strict=True)
    ]
