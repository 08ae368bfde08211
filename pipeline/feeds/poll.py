"""Poll feeds: decide who is due, conditional GET, keep raw bytes, parse, update state.

One feed's fate never affects another's: every outcome (fetched, 304, failed, not due,
parked) is returned as data, with a fetch attempt row and, for failures, a counted
``Reject``.  A 304 costs no parsing.  The polling state (validators, backoff, parking,
permanent-redirect URL) is read from the lake (:mod:`pipeline.feeds.state`) by the one
task that owns the feed, and returned with the outcome: the caller saves it with
:meth:`PollResult.save_states` only AFTER the batch holding the feed's entries has
committed.  Saved earlier, a crash between the two would leave an ETag and a next-poll
time that make the rerun skip entries that were never stored (issue 13).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pipeline.config import Settings
from pipeline.lake import raw, tombstones
from pipeline.lake.store import ObjectStore, StoreError
from pipeline.lake.tombstones import Tombstones
from pipeline.models import Entry, FeedSpec, NewsflowError, Reject
from pipeline.progress import progress_bar

from . import websub
from .attempts import Attempt
from .fetch import FEED_ACCEPT, Fetcher
from .parse import parse_feed
from .polite import HostGate, interleave_by_host
from .schedule import is_due, record_failure, record_success
from .state import FeedState, load_state, save_state

log = logging.getLogger(__name__)


@dataclass
class FeedOutcome:
    spec: FeedSpec
    status: str  # ok | not_modified | failed | not_due | parked
    entries: list[Entry] = field(default_factory=list)
    attempt: Attempt | None = None
    reject: Reject | None = None
    newly_parked: bool = False
    state: FeedState | None = None  # to save once the entries are committed (None: unchanged)


@dataclass
class PollResult:
    outcomes: list[FeedOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def entries(self) -> list[Entry]:
        return [e for o in self.outcomes for e in o.entries]

    @property
    def attempts(self) -> list[Attempt]:
        return [o.attempt for o in self.outcomes if o.attempt is not None]

    @property
    def rejects(self) -> list[Reject]:
        return [o.reject for o in self.outcomes if o.reject is not None]

    def save_states(self, store: ObjectStore) -> int:
        """Save every polled feed's new state; call only after its entries are committed."""
        n = 0
        for o in self.outcomes:
            if o.state is not None:
                save_state(store, o.state)
                n += 1
        return n


def poll_feeds(
    settings: Settings,
    feeds: Sequence[FeedSpec],
    *,
    run_ts: datetime,
    store: ObjectStore,
    fetcher: Fetcher,
    gate: HostGate,
    known: set[tuple[str, str]] | frozenset = frozenset(),
    force: bool = False,
    progress: bool = False,
) -> PollResult:
    """Poll every due feed of ``feeds`` concurrently; results keep the registry order.

    ``force``: poll parked and not-yet-due feeds too, without conditional headers (a
    forced poll must see the body even when the server would answer 304).  Nothing is
    saved: see :meth:`PollResult.save_states`.
    """
    order = interleave_by_host(list(feeds), lambda s: s.url)
    pushed = {s.feed_url: s for s in websub.load_all(store) if s.state == "active"}  # one listing per run
    stones = tombstones.load(store)  # taken-down items are cut from feed bodies before they are kept

    def one(spec: FeedSpec) -> FeedOutcome:
        try:
            return poll_one(settings, spec, run_ts=run_ts, store=store, fetcher=fetcher,
                            gate=gate, known=known, force=force, pushed=pushed, stones=stones)
        except StoreError:  # the lake is down or refuses us: no feed can be kept, stop the run
            raise
        except Exception as exc:  # one feed must never kill the run
            log.exception("unexpected error polling %s", spec.url)
            return FeedOutcome(spec, "failed", reject=Reject("fetch", spec.url, "internal_error", repr(exc)))

    done: dict[str, FeedOutcome] = {}
    with ThreadPoolExecutor(max_workers=max(1, settings.fetch_concurrency)) as pool:
        bar = progress_bar(pool.map(one, order), total=len(order), desc="feeds", enabled=progress)
        for outcome in bar:
            done[outcome.spec.url] = outcome
    return PollResult([done[s.url] for s in feeds])


def poll_one(
    settings: Settings,
    spec: FeedSpec,
    *,
    run_ts: datetime,
    store: ObjectStore,
    fetcher: Fetcher,
    gate: HostGate,
    known: set[tuple[str, str]] | frozenset = frozenset(),
    force: bool = False,
    pushed: dict[str, websub.Subscription] | None = None,
    stones: Tombstones | None = None,
) -> FeedOutcome:
    """Poll one feed.  ``pushed``: the live WebSub subscriptions by feed URL (read from the
    lake when not given): a pushed feed is polled rarely, as a safety net."""
    sub = (pushed.get(spec.url) if pushed is not None else websub.pushed(store, spec.url))
    state = load_state(store, spec.url) or FeedState(url=spec.url)
    state.name, state.language = spec.name or state.name, spec.language or state.language
    if not force and not is_due(state, run_ts):
        return FeedOutcome(spec, "parked" if state.parked else "not_due")
    was_parked, state.parked = state.parked, False if force else state.parked
    url = state.fetch_url
    attempt = Attempt(kind="feed", feed_url=spec.url, url=url, attempted_at=datetime.now(UTC), outcome="error")
    try:
        with gate.enter(url):
            result = fetcher.fetch(url, max_bytes=settings.max_feed_bytes,
                                   etag=None if force else state.etag,
                                   last_modified=None if force else state.last_modified, accept=FEED_ACCEPT)
    except NewsflowError as exc:
        status = getattr(exc, "status", None)
        record_failure(settings, state, run_ts, reason=exc.reason, detail=str(exc),
                       status=status, headers=getattr(exc, "headers", None))
        attempt.status, attempt.reason, attempt.detail = status, exc.reason, str(exc)[:500]
        return _finish(store, state, attempt, was_parked,
                       FeedOutcome(spec, "failed", reject=Reject("fetch", spec.url, exc.reason, str(exc))))
    attempt.attempted_at, attempt.final_url = result.fetched_at, result.final_url
    attempt.status, attempt.elapsed_ms, attempt.bytes = result.status, result.elapsed_ms, len(result.body)
    if result.permanent_url and result.permanent_url != url:
        log.info("feed %s moved permanently to %s", url, result.permanent_url)
        state.current_url = result.permanent_url
    if result.status == 304:
        record_success(settings, state, run_ts, status=304, headers=result.headers)
        if sub is not None:  # push is live: poll rarely
            state.next_poll_at = max(state.next_poll_at or run_ts, run_ts + timedelta(seconds=settings.push_poll_interval))
        attempt.outcome = "not_modified"
        return _finish(store, state, attempt, was_parked, FeedOutcome(spec, "not_modified"))
    record = raw.store_fetch(store, "feed", result,
                             meta={"feed_url": spec.url, "name": spec.name, "language": spec.language},
                             stones=stones)
    attempt.body_sha256 = record.sha256
    try:
        parsed = parse_feed(result.body, result.final_url, result.headers.get("content-type"))
    except NewsflowError as exc:
        record_failure(settings, state, run_ts, reason=exc.reason, detail=str(exc),
                       status=result.status, headers=result.headers)
        attempt.reason, attempt.detail = exc.reason, str(exc)[:500]
        return _finish(store, state, attempt, was_parked,
                       FeedOutcome(spec, "failed", reject=Reject("parse", spec.url, exc.reason, str(exc))))
    for w in parsed.warnings:
        log.info("feed %s: %s", spec.url, w)
    entries = stamp_entries(parsed.entries, spec)
    remember_entries(state, entries)
    new = sum(1 for e in entries if (e.feed_url, e.guid) not in known)
    record_success(settings, state, run_ts, status=result.status, headers=result.headers,
                   entries=len(entries), new_entries=new, ttl_minutes=parsed.ttl_minutes)
    if sub is not None:  # push is live: this poll is the safety net (pipeline.feeds.websub)
        state.next_poll_at = max(state.next_poll_at or run_ts, run_ts + timedelta(seconds=settings.push_poll_interval))
        if new and not force:
            websub.note_missed(store, sub, new, run_ts)
            log.warning("feed %s: polling found %d entries its WebSub hub did not push", spec.url, new)
    attempt.outcome, attempt.entries = "ok", len(entries)
    return _finish(store, state, attempt, was_parked, FeedOutcome(spec, "ok", entries=entries))


def stamp_entries(entries: list[Entry], spec: FeedSpec) -> list[Entry]:
    """Entries belong to the REGISTRY url (stable across redirects) and inherit its language;
    each gets its entry hash (what decides whether a held article is looked at again)."""
    from pipeline.extract.revisions import entry_hash

    for entry in entries:
        entry.language = entry.language or spec.language
        entry.feed_url = spec.url
        entry.entry_hash = entry_hash(entry.title, entry.summary_html, entry.content_html,
                                      entry.updated.isoformat() if entry.updated else None)
    return entries


def remember_entries(state: FeedState, entries: list[Entry]) -> None:
    """Mark the entries this feed served unchanged since the last poll, then remember the
    ones it serves now (saved with the state, after the batch commits)."""
    before = state.entry_hashes or {}
    for e in entries:
        e.seen_before = before.get(e.guid) == e.entry_hash
    state.entry_hashes = {e.guid: e.entry_hash for e in entries if e.entry_hash}


def _finish(store: ObjectStore, state: FeedState, attempt: Attempt, was_parked: bool,
            outcome: FeedOutcome) -> FeedOutcome:
    outcome.state = state  # saved by the caller once the batch has committed
    attempt.consecutive_errors = state.consecutive_errors
    attempt.next_poll_at = state.next_poll_at
    attempt.parked = state.parked
    outcome.attempt = attempt
    outcome.newly_parked = state.parked and not was_parked
    if outcome.newly_parked:
        log.warning("feed %s parked after %d consecutive failures (last: %s)",
                    state.url, state.consecutive_errors, state.last_reason)
    return outcome
