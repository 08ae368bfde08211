"""When to poll a feed next: the adaptive-polling policy, as pure functions of ``run_ts``.

No clock is read here: the caller's ``run_ts`` (the CLI start or the DAG run's logical
date) is the decision clock, so a rerun of a run decides exactly the same.

* success / 304: next poll after the longest of ``poll_min_interval``, the response's
  ``Cache-Control: max-age`` (``no-cache``/``no-store`` mean no hint) and the feed's RSS
  ``<ttl>``, capped at ``poll_max_interval``;
* failure n (n consecutive failures): ``backoff_base * 2**(n-1)`` capped at
  ``backoff_max``, plus up to ``backoff_jitter`` of it, where the jitter fraction comes
  from ``sha256(url, n)`` (reproducible, yet feeds that failed together spread out);
  a ``Retry-After`` (seconds or HTTP date) on 429/503 is honoured when it asks for longer,
  capped at ``poll_max_interval``;
* ``park_after`` consecutive failures park the feed (HTTP 410 Gone parks at once): it is
  no longer polled until ``newsflow feeds unpark`` (or ``ingest(force=True)``).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from pipeline.config import Settings

from .state import FeedState

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.I)


def is_due(state: FeedState | None, run_ts: datetime) -> bool:
    if state is None:
        return True
    if state.parked:
        return False
    return state.next_poll_at is None or state.next_poll_at <= run_ts


def max_age(headers: dict[str, str]) -> float | None:
    cc = headers.get("cache-control", "")
    if re.search(r"no-cache|no-store", cc, re.I):
        return None
    m = _MAX_AGE.search(cc)
    return float(m.group(1)) if m else None


def retry_after(headers: dict[str, str], run_ts: datetime) -> float | None:
    """Seconds the server asks us to wait (``Retry-After``: delta-seconds or an HTTP date)."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - run_ts).total_seconds())


def jitter_fraction(url: str, attempt: int) -> float:
    """A number in [0, 1) fixed by (url, attempt): reproducible jitter."""
    digest = hashlib.sha256(f"{url}\x1f{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def backoff_seconds(settings: Settings, url: str, failures: int) -> float:
    base = min(settings.backoff_base * 2 ** max(0, failures - 1), settings.backoff_max)
    return base * (1.0 + settings.backoff_jitter * jitter_fraction(url, failures))


def next_after_success(
    settings: Settings, run_ts: datetime, headers: dict[str, str], ttl_minutes: int | None
) -> datetime:
    wait = settings.poll_min_interval
    age = max_age(headers)
    if age is not None:
        wait = max(wait, age)
    if ttl_minutes:
        wait = max(wait, ttl_minutes * 60.0)
    return run_ts + timedelta(seconds=min(wait, settings.poll_max_interval))


def next_after_failure(
    settings: Settings, state: FeedState, run_ts: datetime, headers: dict[str, str] | None
) -> datetime:
    wait = backoff_seconds(settings, state.url, state.consecutive_errors)
    asked = retry_after(headers or {}, run_ts)
    if asked is not None:
        wait = max(wait, min(asked, settings.poll_max_interval))
    return run_ts + timedelta(seconds=wait)


def record_success(
    settings: Settings,
    state: FeedState,
    run_ts: datetime,
    *,
    status: int,
    headers: dict[str, str],
    entries: int | None = None,
    new_entries: int = 0,
    ttl_minutes: int | None = None,
) -> FeedState:
    """Update ``state`` after a 2xx that parsed (``entries`` set) or a 304."""
    state.total_polls += 1
    state.last_attempt_at = state.last_success_at = run_ts
    state.last_status = status
    state.last_outcome = "not_modified" if status == 304 else "ok"
    state.last_reason = state.last_error = None
    state.consecutive_errors = 0
    state.etag = headers.get("etag") or state.etag
    state.last_modified = headers.get("last-modified") or state.last_modified
    if entries is not None:
        state.last_entries = entries
        state.ttl_minutes = ttl_minutes
    if new_entries:
        state.last_new_entries_at = run_ts
    state.next_poll_at = next_after_success(settings, run_ts, headers, state.ttl_minutes)
    return state


def record_failure(
    settings: Settings,
    state: FeedState,
    run_ts: datetime,
    *,
    reason: str,
    detail: str,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> FeedState:
    """Update ``state`` after a failed fetch or parse; park it when it keeps failing."""
    state.total_polls += 1
    state.total_errors += 1
    state.consecutive_errors += 1
    state.last_attempt_at = run_ts
    state.last_status = status
    state.last_outcome = "error"
    state.last_reason = reason
    state.last_error = detail[:500]
    if status is not None and 200 <= status < 300:
        # a 2xx that did not parse: forget validators so the next poll re-reads the body
        state.etag = state.last_modified = None
    state.next_poll_at = next_after_failure(settings, state, run_ts, headers)
    if state.consecutive_errors >= settings.park_after or status == 410:
        state.parked = True
        state.parked_at = run_ts
    return state


def unpark(state: FeedState) -> FeedState:
    state.parked = False
    state.parked_at = None
    state.consecutive_errors = 0
    state.next_poll_at = None
    return state
