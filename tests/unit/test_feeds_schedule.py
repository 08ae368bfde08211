"""Adaptive polling policy, lake state round trip and host manners (no network)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from pipeline.config import Settings
from pipeline.feeds.polite import HostGate, interleave_by_host
from pipeline.feeds.schedule import (
    backoff_seconds,
    is_due,
    jitter_fraction,
    max_age,
    record_failure,
    record_success,
    retry_after,
    unpark,
)
from pipeline.feeds.state import FeedState, iter_states, load_state, save_state
from pipeline.lake.store import LocalStore

T = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
S = Settings.load(backoff_base=60.0, backoff_max=3600.0, backoff_jitter=0.2, park_after=3)


def test_jitter_is_reproducible_and_spread():
    assert jitter_fraction("http://a/", 1) == jitter_fraction("http://a/", 1)
    values = {round(jitter_fraction(f"http://feed{i}/", 1), 6) for i in range(50)}
    assert len(values) == 50 and all(0 <= v < 1 for v in values)


def test_backoff_doubles_and_is_capped():
    waits = [backoff_seconds(S, "http://a/", n) for n in range(1, 10)]
    for n, w in enumerate(waits, start=1):
        base = min(60.0 * 2 ** (n - 1), 3600.0)
        assert base <= w <= base * 1.2
    assert waits[-1] <= 3600 * 1.2


def test_retry_after_seconds_and_http_date():
    assert retry_after({"retry-after": "120"}, T) == 120
    assert retry_after({"retry-after": "Wed, 01 Oct 2025 13:00:00 GMT"}, T) == 3600
    assert retry_after({"retry-after": "soon"}, T) is None


def test_max_age_and_ttl_set_the_next_poll():
    assert max_age({"cache-control": "public, max-age=600"}) == 600
    assert max_age({"cache-control": "no-cache, max-age=600"}) is None
    st = record_success(S, FeedState("http://a/"), T, status=200, headers={"cache-control": "max-age=600"},
                        entries=3, ttl_minutes=None)
    assert st.next_poll_at == T + timedelta(seconds=600)
    st = record_success(S, FeedState("http://a/"), T, status=200, headers={}, entries=3, ttl_minutes=30)
    assert st.next_poll_at == T + timedelta(minutes=30)
    # a 304 keeps the <ttl> learnt from the last parsed body, and the validators
    st.etag = '"x"'
    st = record_success(S, st, T, status=304, headers={})
    assert st.next_poll_at == T + timedelta(minutes=30) and st.etag == '"x"'


def test_failures_back_off_then_park_and_unpark():
    st = FeedState("http://a/", etag='"e"')
    record_failure(S, st, T, reason="http_503", detail="x", status=503, headers={"retry-after": "7200"})
    assert st.next_poll_at == T + timedelta(seconds=7200) and not st.parked
    assert st.etag == '"e"'  # an HTTP error keeps the validators
    record_failure(S, st, T, reason="feed_invalid", detail="x", status=200)
    assert st.etag is None  # a 200 that did not parse must be re-read next time
    assert not is_due(st, T) and is_due(st, st.next_poll_at)
    record_failure(S, st, T, reason="timeout", detail="x")
    assert st.parked and st.health == "parked" and not is_due(st, T + timedelta(days=30))
    unpark(st)
    assert is_due(st, T) and st.consecutive_errors == 0


def test_state_round_trip_in_the_lake(tmp_path):
    store = LocalStore(tmp_path)
    st = record_success(S, FeedState("http://a/feed", name="A"), T, status=200, headers={"etag": '"1"'}, entries=2)
    save_state(store, st)
    assert load_state(store, "http://a/feed") == st
    assert load_state(store, "http://b/feed") is None
    assert [s.url for s in iter_states(store)] == ["http://a/feed"]


def test_interleave_round_robins_hosts_and_keeps_their_order():
    urls = ["http://a/1", "http://a/2", "http://a/3", "http://b/1", "http://c/1", "http://b/2"]
    assert interleave_by_host(urls, str) == [
        "http://a/1", "http://b/1", "http://c/1", "http://a/2", "http://b/2", "http://a/3"]


def test_host_gate_bounds_in_flight_and_spaces_starts():
    gate = HostGate(per_host=2, min_delay=0.05)
    lock, active, peak, starts = threading.Lock(), [0], [0], []

    def work():
        with gate.enter("http://same.host/x"):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
                starts.append(time.monotonic())
            time.sleep(0.05)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    assert peak[0] <= 2
    assert all(b - a >= 0.045 for a, b in zip(starts, starts[1:], strict=False))
    other = time.monotonic()
    with gate.enter("http://other.host/"):  # another host is not held back
        assert time.monotonic() - other < 0.04
