"""Plain records passed between stages.  No behaviour beyond small derived helpers.

The Parquet/Arrow schema of an article row lives in ``pipeline.lake.schema``; the
dataclass ``Article`` here is its in-memory twin, with the same field names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedSpec:
    """One feed in the registry; only ``url`` is required."""

    url: str
    name: str | None = None
    language: str | None = None


@dataclass
class FetchResult:
    """A completed HTTP exchange.  ``status`` 304 means "not modified" and has no body."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    elapsed_ms: float = 0.0
    # Issue 3: where an unbroken chain of permanent redirects (301/308) ended, else None
    permanent_url: str | None = None
    redirects: int = 0


class NewsflowError(Exception):
    """Base for errors that become counted rejects.  ``reason`` is a short stable code."""

    reason = "error"

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        if reason:
            self.reason = reason


class FetchError(NewsflowError):
    reason = "fetch_failed"


class FeedParseError(NewsflowError):
    reason = "feed_invalid"


class ExtractError(NewsflowError):
    reason = "extract_failed"


@dataclass
class Entry:
    """One feed item, as the feed states it (HTML already sanitized, links absolute)."""

    feed_url: str
    guid: str
    link: str | None
    title: str
    summary_html: str = ""
    content_html: str = ""
    published: datetime | None = None  # timezone-aware UTC, or None when the feed has none
    authors: list[str] = field(default_factory=list)
    language: str | None = None  # the feed's declared language
    tags: list[str] = field(default_factory=list)
    updated: datetime | None = None  # the feed's own "updated" date (Atom, JSON Feed date_modified)
    entry_hash: str | None = None  # pipeline.extract.revisions.entry_hash (set when stamped)
    seen_before: bool = False  # the feed state saw this exact entry last time (no need to look again)


@dataclass
class ParsedFeed:
    url: str
    format: str  # rss20, rss10, atom, jsonfeed, ...
    title: str | None
    language: str | None
    entries: list[Entry]
    warnings: list[str] = field(default_factory=list)
    ttl_minutes: int | None = None  # Issue 3: RSS <ttl>, a polling hint


@dataclass
class Reject:
    """A counted, logged refusal.  ``stage`` is fetch|parse|page|normalize|..."""

    stage: str
    url: str
    reason: str
    detail: str = ""


@dataclass
class Anchor:
    """A language-independent token: a number, year, date or name key, with its position."""

    kind: str  # number | year | date | name
    value: str
    position: int


@dataclass
class Attribution:
    translator: str | None = None
    original_outlet: str | None = None
    original_domain: str | None = None
    original_url: str | None = None
    lines: list[str] = field(default_factory=list)  # the attribution lines as found

    @property
    def is_empty(self) -> bool:
        return not (self.translator or self.original_outlet or self.original_url or self.lines)


@dataclass
class PageContent:
    """What the page itself says, after boilerplate removal."""

    url: str
    title: str | None
    text: str  # paragraphs separated by a blank line
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    canonical_url: str | None = None
    html_lang: str | None = None
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)
    site_name: str | None = None
    section: str | None = None  # issue 4: article:section / JSON-LD articleSection


@dataclass
class Article:
    """A normalized article row (one per canonical URL)."""

    article_id: str
    url: str
    canonical_url: str
    feed_url: str
    source_domain: str
    guid: str
    title: str
    summary: str
    body_text: str
    language: str
    language_confidence: float
    published_at: datetime
    published_at_source: str  # feed | page | fetched
    published_at_flag: str | None  # None, or why the date is not trusted (future, too_old)
    fetched_at: datetime
    authors: list[str] = field(default_factory=list)
    translator: str | None = None
    original_outlet: str | None = None
    original_domain: str | None = None
    original_url: str | None = None
    attribution_text: str | None = None
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)
    content_hash: str = ""
    anchors: list[Anchor] = field(default_factory=list)
    batch_id: str = ""
    # issue 4 (lake schema version 2): appended with defaults so version-1 rows still load.
    published_at_inferred: bool = False  # True when published_at is the fetch time
    section: str | None = None
    site_name: str | None = None
    # issue 19: revisions.  ``revision`` 1 is the first version stored; a changed article
    # comes back as a new row (a new batch) with the next number, never overwriting.
    revision: int = 1
    content_fingerprint: str | None = None  # pipeline.extract.revisions.fingerprint
    entry_hash: str | None = None  # the feed entry as seen (decides when to look again)
    revision_kind: str | None = None  # first | update | correction | retraction
    revision_diff: str | None = None  # JSON summary of what changed since the previous revision


@dataclass
class DedupEdge:
    """An accepted (or, for explain, rejected) link between two articles."""

    a: str
    b: str
    kind: str  # exact | near | translation
    score: float
    evidence: dict


@dataclass
class DedupAssignment:
    article_id: str
    story_id: str
    duplicate_of: str | None
    dup_kind: str | None
    dup_score: float | None
