"""Manners towards the hosts we fetch from: bounded in-flight requests and spacing per host.

Why per host NAME (not IP): the politeness contract is with a site; many sites share a
CDN address, and one site may answer on many addresses.  The global bound is the thread
pool's size (``fetch_concurrency``); :class:`HostGate` adds, for every host, at most
``fetch_per_host`` requests in flight and at least ``host_min_delay`` seconds between the
starts of two requests.  :func:`interleave_by_host` orders work round-robin over hosts so
that pool workers rarely sit waiting for the same busy host.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


class HostGate:
    """Per-host semaphore plus minimum spacing between request starts.  Thread-safe."""

    def __init__(self, per_host: int, min_delay: float, *, sleep: Callable[[float], None] = time.sleep):
        self.per_host = max(1, int(per_host))
        self.min_delay = max(0.0, float(min_delay))
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}
        self.waited = 0.0  # total seconds spent waiting for spacing (for the run summary)

    def _slot(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._slots.get(host)
            if slot is None:
                slot = self._slots[host] = threading.BoundedSemaphore(self.per_host)
            return slot

    @contextlib.contextmanager
    def enter(self, url: str) -> Iterator[None]:
        """Hold a slot for ``url``'s host for the length of one request."""
        host = host_of(url)
        slot = self._slot(host)
        slot.acquire()
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + self.min_delay
            wait = start - now
            if wait > 0:
                self.waited += wait
                self._sleep(wait)
            yield
        finally:
            slot.release()


def interleave_by_host(items: Sequence[T], url_of: Callable[[T], str]) -> list[T]:
    """Round-robin over hosts, keeping each host's own order (stable, deterministic)."""
    groups: OrderedDict[str, list[T]] = OrderedDict()
    for item in items:
        groups.setdefault(host_of(url_of(item)), []).append(item)
    out: list[T] = []
    queues = [list(reversed(g)) for g in groups.values()]
    while queues:
        nxt = []
        for q in queues:
            out.append(q.pop())
            if q:
                nxt.append(q)
        queues = nxt
    return out
