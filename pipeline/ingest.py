"""Ingest stage: feeds -> raw zone -> entries -> pages -> normalized articles batch.

One bad feed, entry or page becomes a counted ``Reject`` and the batch goes on.  Entries
already in the lake (same feed and GUID) are skipped before any page is fetched, so a rerun
over unchanged feeds writes nothing new.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.config import Settings
from pipeline.extract.html import extract_page
from pipeline.feeds.fetch import Fetcher
from pipeline.feeds.parse import parse_feed
from pipeline.lake import raw
from pipeline.lake.articles import known_entries, write_articles, write_rejects
from pipeline.lake.store import ObjectStore, open_store
from pipeline.models import Article, Entry, FeedSpec, NewsflowError, Reject
from pipeline.normalize import build_article, needs_page
from pipeline.progress import progress_bar

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    run_ts: datetime
    feeds_ok: int = 0
    feeds_failed: int = 0
    entries: int = 0
    entries_known: int = 0
    pages_fetched: int = 0
    articles_new: int = 0
    batch_id: str | None = None
    batch_uri: str | None = None
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rejects_by_reason(self) -> dict[str, int]:
        return dict(sorted(Counter(f"{r.stage}:{r.reason}" for r in self.rejects).items()))


def ingest(
    settings: Settings,
    feeds: Sequence[FeedSpec],
    *,
    run_ts: datetime,
    progress: bool = False,
    store: ObjectStore | None = None,
) -> IngestReport:
    """Fetch ``feeds`` and write their new articles as one lake batch."""
    store = store or open_store(settings)
    report = IngestReport(run_ts=run_ts)
    known = known_entries(store)
    with Fetcher(settings) as fetcher:
        entries = _fetch_feeds(fetcher, store, feeds, settings, report, progress)
        fresh = [e for e in entries if (e.feed_url, e.guid) not in known]
        report.entries_known = len(entries) - len(fresh)
        articles = _build_articles(fetcher, store, fresh, settings, report, progress)
    articles = _one_per_id(articles)
    report.articles_new = len(articles)
    if articles:
        report.batch_id = batch_id_for(run_ts, articles)
        manifest = write_articles(store, report.batch_id, articles)
        report.batch_uri = store.url_for(manifest.key)
    if report.rejects:
        write_rejects(store, run_ts, report.rejects)
    for r in report.rejects:
        log.warning("reject %s:%s %s %s", r.stage, r.reason, r.url, r.detail)
    log.info(
        "ingest: feeds ok=%d failed=%d entries=%d known=%d pages=%d new_articles=%d rejects=%s",
        report.feeds_ok, report.feeds_failed, report.entries, report.entries_known,
        report.pages_fetched, report.articles_new, report.rejects_by_reason,
    )
    return report


def batch_id_for(run_ts: datetime, articles: Sequence[Article]) -> str:
    """Time-prefixed (so batches sort) and content-derived (so a rerun reuses the key)."""
    digest = hashlib.sha256()
    for a in sorted(articles, key=lambda a: a.article_id):
        digest.update(f"{a.article_id}:{a.content_hash}\n".encode())
    return f"{run_ts:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:12]}"


def _fetch_feeds(fetcher, store, feeds, settings, report, progress) -> list[Entry]:
    def one(spec: FeedSpec) -> list[Entry] | Reject:
        try:
            result = fetcher.fetch(spec.url, max_bytes=settings.max_feed_bytes,
                                   accept="application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5")
            raw.store_fetch(store, "feed", result)
        except NewsflowError as exc:
            return Reject("fetch", spec.url, exc.reason, str(exc))
        try:
            parsed = parse_feed(result.body, result.final_url, result.headers.get("content-type"))
        except NewsflowError as exc:
            return Reject("parse", spec.url, exc.reason, str(exc))
        for entry in parsed.entries:
            entry.language = entry.language or spec.language
            entry.feed_url = spec.url
        return parsed.entries

    entries: list[Entry] = []
    with ThreadPoolExecutor(max_workers=max(1, settings.fetch_concurrency)) as pool:
        for spec, outcome in zip(feeds, progress_bar(pool.map(one, feeds), total=len(feeds), desc="feeds", enabled=progress), strict=True):
            if isinstance(outcome, Reject):
                report.feeds_failed += 1
                report.rejects.append(outcome)
            else:
                report.feeds_ok += 1
                log.info("feed %s: %d entries", spec.url, len(outcome))
                entries.extend(outcome)
    report.entries = len(entries)
    return entries


def _build_articles(fetcher, store, entries, settings, report, progress) -> list[Article]:
    def one(entry: Entry) -> tuple[Article | Reject, bool]:
        page = None
        final_url = entry.link
        fetched_at = report.run_ts
        fetched = False
        try:
            if needs_page(entry):
                result = fetcher.fetch(entry.link, max_bytes=settings.max_page_bytes, accept="text/html")
                fetched = True
                record = raw.store_fetch(store, "page", result)
                fetched_at, final_url = record.fetched_at, result.final_url
                page = extract_page(result.body, result.final_url)
            return build_article(entry, page, fetched_at, settings, final_url=final_url), fetched
        except NewsflowError as exc:
            return Reject("page" if fetched or needs_page(entry) else "normalize", entry.link or entry.guid, exc.reason, str(exc)), fetched
        except Exception as exc:  # one bad item must never kill the batch
            log.exception("unexpected error on %s", entry.link)
            return Reject("normalize", entry.link or entry.guid, "internal_error", repr(exc)), fetched

    articles: list[Article] = []
    with ThreadPoolExecutor(max_workers=max(1, settings.fetch_concurrency)) as pool:
        for outcome, fetched in progress_bar(pool.map(one, entries), total=len(entries), desc="articles", enabled=progress):
            report.pages_fetched += int(fetched)
            if isinstance(outcome, Reject):
                report.rejects.append(outcome)
            else:
                articles.append(outcome)
    return articles


def _one_per_id(articles: list[Article]) -> list[Article]:
    """Two entries resolving to one canonical URL are one article (first, by feed order)."""
    seen: dict[str, Article] = {}
    for a in articles:
        seen.setdefault(a.article_id, a)
    return list(seen.values())
