"""Ingest stage: due feeds -> raw zone -> entries -> pages -> normalized articles batch.

One bad feed, entry or page becomes a counted ``Reject`` and the batch goes on.  Feeds are
polled politely and conditionally (:mod:`pipeline.feeds.poll`); a 304 costs no parsing.
Entries already in the lake (same feed and GUID) are skipped before any page is fetched,
so a rerun over unchanged feeds writes nothing new.  Besides the articles batch, a run
writes its rejects and its fetch attempts to the lake (never to the warehouse: shards run
in parallel and DuckDB has one writer); the load stage mirrors them.

Order is what makes a crash lose nothing (issue 13): what a feed delivered counts as
consumed only once the batch holding its entries is committed.  So the feeds' polling
state (ETag, Last-Modified, next poll time) is saved LAST, after the articles batch, the
rejects and the attempts; a crash anywhere before leaves the old state, and the rerun
polls the feed again and stores what was missing.  ``force`` sends unconditional requests
and re-examines entries already stored (a new batch; the warehouse upserts by id).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.config import Settings
from pipeline.extract.html import extract_page
from pipeline.failpoints import failpoint
from pipeline.feeds.attempts import Attempt, write_attempts
from pipeline.feeds.fetch import PAGE_ACCEPT, Fetcher
from pipeline.feeds.polite import HostGate, interleave_by_host
from pipeline.feeds.poll import poll_feeds
from pipeline.lake import raw, tombstones
from pipeline.lake.articles import current_versions, known_entries, write_articles, write_rejects
from pipeline.lake.purge import enforce, purge_raw
from pipeline.lake.store import ObjectStore, StoreError, open_store
from pipeline.models import (
    Article,
    Entry,
    ExtractError,
    FeedSpec,
    NewsflowError,
    PageContent,
    Reject,
)
from pipeline.normalize import build_article, needs_page
from pipeline.progress import progress_bar
from pipeline.revisions import RevisionCounts, changed_entries, classify, refuse_entries

log = logging.getLogger(__name__)

# (entry) -> (page content, final url, fetched_at); raises NewsflowError
PageSource = Callable[[Entry], tuple[PageContent, str, datetime]]


@dataclass
class IngestReport:
    run_ts: datetime
    feeds_ok: int = 0  # fetched and parsed, or answered 304
    feeds_failed: int = 0
    feeds_not_modified: int = 0
    feeds_not_due: int = 0  # skipped: next poll time not reached (backoff, max-age, <ttl>)
    feeds_parked: int = 0  # skipped: parked after repeated failures
    newly_parked: list[str] = field(default_factory=list)
    entries: int = 0
    entries_known: int = 0
    pages_fetched: int = 0
    articles_new: int = 0
    batch_id: str | None = None
    batch_uri: str | None = None
    attempts: int = 0
    attempts_uri: str | None = None
    rejects: list[Reject] = field(default_factory=list)
    revisions: RevisionCounts = field(default_factory=RevisionCounts)

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
    force: bool = False,
    fetcher: Fetcher | None = None,
) -> IngestReport:
    """Poll the due ``feeds`` and write their new articles as one lake batch.

    ``force`` polls every feed, even parked or not yet due ones.  ``fetcher`` lets tests
    and benchmarks pass a configured :class:`Fetcher`.
    """
    store = store or open_store(settings)
    report = IngestReport(run_ts=run_ts)
    stones = tombstones.load(store)
    current = current_versions(store)
    by_entry = {(r["feed_url"], r["guid"]): r for r in current.values()}
    known = known_entries(store)
    gate = HostGate(settings.fetch_per_host, settings.host_min_delay)
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    page_attempts: list[Attempt] = []
    try:
        poll = poll_feeds(settings, feeds, run_ts=run_ts, store=store, fetcher=fetcher,
                          gate=gate, known=known, force=force, progress=progress)
        report.feeds_ok = poll.count("ok") + poll.count("not_modified")
        report.feeds_not_modified = poll.count("not_modified")
        report.feeds_failed = poll.count("failed")
        report.feeds_not_due = poll.count("not_due")
        report.feeds_parked = poll.count("parked")
        report.newly_parked = [o.spec.url for o in poll.outcomes if o.newly_parked]
        report.rejects.extend(poll.rejects)
        entries = poll.entries
        report.entries = len(entries)
        fresh = entries if force else [e for e in entries if (e.feed_url, e.guid) not in known]
        report.entries_known = len(entries) - len(fresh)
        fresh += [] if force else changed_entries(entries, by_entry)  # held, served changed: a revision?
        fresh, refused = refuse_entries(fresh, stones, report.revisions)
        report.rejects.extend(refused)
        source = live_pages(settings, store, fetcher, gate, page_attempts, stones)
        articles = build_articles(fresh, source, settings, report, progress)
        articles, refused = classify(store, articles, current, stones, report.revisions, force=force)
        report.rejects.extend(refused)
        if refused:  # a page that only its content identified as taken down: its body goes too
            purge_raw(store, stones)
    finally:
        if own:
            fetcher.close()
    write_outputs(store, report, articles, poll.attempts + page_attempts, [f.url for f in feeds])
    poll.save_states(store)  # last: the feeds' entries are committed (see the module docstring)
    failpoint("after_feed_state")
    enforce(store, stones)  # a takedown requested while this run was in flight (issue 19)
    return report


def batch_uri(store, kind: str, batch_id: str) -> str:
    """Where a batch is: its Delta table's path and the batch id (``<table>#batch_id=<id>``)."""
    from pipeline.lake.tables import table_uri

    return f"{table_uri(store, kind)}#batch_id={batch_id}"


def write_outputs(store, report, articles, attempts, feed_urls) -> None:
    articles = _one_per_id(articles)
    report.articles_new = len(articles)
    if articles:
        report.batch_id = batch_id_for(report.run_ts, articles)
        batch = write_articles(store, report.batch_id, articles)
        report.batch_uri = batch_uri(store, "articles", batch.batch_id)
        failpoint("after_commit")
    if report.rejects:
        write_rejects(store, report.run_ts, report.rejects)
    if attempts:
        report.attempts = len(attempts)
        report.attempts_uri = batch_uri(store, "fetch_attempts",
                                        write_attempts(store, report.run_ts, feed_urls, attempts).batch_id)
    for r in report.rejects:
        log.warning("reject %s:%s %s %s", r.stage, r.reason, r.url, r.detail)
    log.info(
        "ingest: feeds ok=%d (304: %d) failed=%d not_due=%d parked=%d entries=%d known=%d "
        "pages=%d new_articles=%d (revisions %d, unchanged %d) rejects=%s",
        report.feeds_ok, report.feeds_not_modified, report.feeds_failed, report.feeds_not_due,
        report.feeds_parked, report.entries, report.entries_known, report.pages_fetched,
        report.articles_new, report.revisions.revised, report.revisions.unchanged, report.rejects_by_reason,
    )


def batch_id_for(run_ts: datetime, articles: Sequence[Article]) -> str:
    """Time-prefixed (so batches sort) and content-derived (so a rerun reuses the key)."""
    digest = hashlib.sha256()
    for a in sorted(articles, key=lambda a: a.article_id):
        digest.update(f"{a.article_id}:{a.content_hash}\n".encode())
    return f"{run_ts:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:12]}"


def live_pages(settings: Settings, store: ObjectStore, fetcher: Fetcher, gate: HostGate,
               attempts: list[Attempt], stones: tombstones.Tombstones | None = None) -> PageSource:
    """Fetch article pages through the same guarded, limited, polite layer as feeds.  A page
    that redirected to a taken-down article is refused before its body is kept."""

    def get(entry: Entry) -> tuple[PageContent, str, datetime]:
        attempt = Attempt(kind="page", feed_url=entry.feed_url, url=entry.link or "",
                          attempted_at=datetime.now(UTC), outcome="error")
        attempts.append(attempt)
        try:
            with gate.enter(entry.link or ""):
                result = fetcher.fetch(entry.link or "", max_bytes=settings.max_page_bytes, accept=PAGE_ACCEPT)
        except NewsflowError as exc:
            attempt.status, attempt.reason = getattr(exc, "status", None), exc.reason
            attempt.detail = str(exc)[:500]
            raise
        if stones and stones.blocks_url(result.final_url):
            attempt.reason = tombstones.REASON
            raise ExtractError(f"{result.final_url} was taken down", reason=tombstones.REASON)
        record = raw.store_fetch(store, "page", result, meta={"feed_url": entry.feed_url})
        attempt.outcome, attempt.status, attempt.final_url = "ok", result.status, result.final_url
        attempt.elapsed_ms, attempt.bytes, attempt.body_sha256 = result.elapsed_ms, record.size, record.sha256
        return extract_page(result.body, result.final_url), result.final_url, record.fetched_at

    return get


def build_articles(entries: list[Entry], pages: PageSource, settings: Settings,
                   report: IngestReport, progress: bool = False) -> list[Article]:
    """Normalize entries, fetching a page (from ``pages``) when the feed has only a teaser."""

    def one(item: tuple[int, Entry]) -> tuple[int, Article | Reject, bool]:
        i, entry = item
        page, final_url, fetched_at, fetched = None, entry.link, report.run_ts, False
        try:
            if needs_page(entry):
                page, final_url, fetched_at = pages(entry)
                fetched = True
            article = build_article(entry, page, fetched_at, settings, final_url=final_url)
            article.entry_hash = entry.entry_hash
            return i, article, fetched
        except NewsflowError as exc:
            stage = "page" if needs_page(entry) and not fetched else "normalize"
            return i, Reject(stage, entry.link or entry.guid, exc.reason, str(exc)), fetched
        except StoreError:  # the lake itself failed: not this entry's fault, stop the run
            raise
        except Exception as exc:  # one bad item must never kill the batch
            log.exception("unexpected error on %s", entry.link)
            return i, Reject("normalize", entry.link or entry.guid, "internal_error", repr(exc)), fetched

    # Run round-robin over hosts (manners), but keep feed order in the output ("first wins").
    ordered = interleave_by_host(list(enumerate(entries)), lambda p: p[1].link or p[1].feed_url)
    outcomes: list[tuple[int, Article | Reject]] = []
    with ThreadPoolExecutor(max_workers=max(1, settings.fetch_concurrency)) as pool:
        results = progress_bar(pool.map(one, ordered), total=len(ordered), desc="articles", enabled=progress)
        for i, outcome, fetched in results:
            report.pages_fetched += int(fetched)
            outcomes.append((i, outcome))
    articles: list[Article] = []
    for _i, outcome in sorted(outcomes, key=lambda p: p[0]):
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


def ingest_pushed(settings: Settings, records: Sequence[tuple[FeedSpec, raw.RawRecord]], *, run_ts: datetime,
                  store: ObjectStore, fetcher: Fetcher | None = None) -> IngestReport:
    """Feed bodies a WebSub hub pushed (already in the raw zone) -> one articles batch:
    the polled path from parsing on (known entries skipped, pages fetched live)."""
    from pipeline.feeds.parse import parse_feed
    from pipeline.feeds.poll import stamp_entries

    report = IngestReport(run_ts=run_ts)
    stones = tombstones.load(store)
    current = current_versions(store)
    known = known_entries(store)
    gate = HostGate(settings.fetch_per_host, settings.host_min_delay)
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    page_attempts: list[Attempt] = []
    fresh: list[Entry] = []
    try:
        for spec, rec in records:
            try:
                parsed = parse_feed(raw.load_body(store, rec.sha256), rec.final_url, rec.headers.get("content-type"))
            except NewsflowError as exc:
                report.feeds_failed += 1
                report.rejects.append(Reject("parse", spec.url, exc.reason, str(exc)))
                continue
            report.feeds_ok += 1
            entries = stamp_entries(parsed.entries, spec)
            report.entries += len(entries)
            new = [e for e in entries if (e.feed_url, e.guid) not in known]
            report.entries_known += len(entries) - len(new)
            known |= {(e.feed_url, e.guid) for e in new}
            fresh += new
        fresh, refused = refuse_entries(fresh, stones, report.revisions)
        report.rejects.extend(refused)
        articles = build_articles(fresh, live_pages(settings, store, fetcher, gate, page_attempts, stones),
                                  settings, report)
        articles, refused = classify(store, articles, current, stones, report.revisions)
        report.rejects.extend(refused)
        if refused:
            purge_raw(store, stones)
    finally:
        if own:
            fetcher.close()
    write_outputs(store, report, articles, page_attempts, sorted({spec.url for spec, _ in records}))
    enforce(store, stones)
    return report
