"""Records and small formatting helpers shared by the corpus renderers.

Kept apart from ``build_corpus.py`` so the page templates and feed writers can be
read (and changed) on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

AR_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
AR_MONTHS_EG = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس",
                "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]
AR_MONTHS_LEV = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب",
                 "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول"]
AR_WEEKDAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]


@dataclass
class Outlet:
    domain: str
    name: str
    language: str
    template: str
    feed_format: str  # rss | atom | jsonfeed
    feed_path: str
    full_content: bool
    description: str
    sections: list[str]
    broken_feeds: list[dict] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{self.domain}"

    @property
    def feed_url(self) -> str:
        return self.base + self.feed_path


@dataclass
class Item:
    """One feed entry and (usually) its page, fully resolved (copies expanded)."""

    id: str
    outlet: Outlet
    path: str
    title: str
    section: str
    published: datetime | None
    author: str
    head: list[str]
    paragraphs: list[str]
    tail: list[str]
    page: str = "ok"  # ok | missing | empty
    link_suffix: str = ""
    tags: list[str] = field(default_factory=list)
    related: list[Item] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.outlet.base + self.path

    @property
    def feed_link(self) -> str:
        return self.url + self.link_suffix

    @property
    def body(self) -> list[str]:
        return [*self.head, *self.paragraphs, *self.tail]

    @property
    def summary(self) -> str:
        return first_sentence(self.paragraphs[0]) if self.paragraphs else self.title

    @property
    def published_utc(self) -> datetime | None:
        return self.published.astimezone(UTC) if self.published else None


_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+")


def first_sentence(text: str) -> str:
    """The teaser a teaser-only feed carries: the lead's first sentence."""
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def snippet(text: str, limit: int = 90) -> str:
    """Cut at a word boundary and add an ellipsis, like related-article teasers do."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "..."


def rfc822(dt: datetime) -> str:
    """RSS pubDate with the outlet's own offset (``+0300``)."""
    return dt.strftime("%a, %d %b %Y %H:%M:%S %z")


def rfc3339(dt: datetime) -> str:
    return dt.isoformat()


def en_date(dt: datetime) -> str:
    return f"{EN_MONTHS[dt.month - 1]} {dt.day}, {dt.year}"


def ar_date(dt: datetime, months: list[str], indic: bool = False) -> str:
    text = f"{dt.day} {months[dt.month - 1]} {dt.year}"
    return text.translate(AR_DIGITS) if indic else text


def ar_clock(dt: datetime, indic: bool = False) -> str:
    """12-hour Arabic clock: ``12:09 ص`` (morning) / ``3:40 م`` (afternoon)."""
    hour = dt.hour % 12 or 12
    text = f"{hour}:{dt.minute:02d} {'ص' if dt.hour < 12 else 'م'}"
    return text.translate(AR_DIGITS) if indic else text
