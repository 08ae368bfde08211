"""Liveness and readiness of the API, decided without revealing configuration.

``/healthz`` says only that the process answers (liveness: restart me if this fails).
``/readyz`` says whether to send traffic: the warehouse answers a query now, a snapshot
is loaded, and the data it serves is younger than ``ready_max_age`` (default twice the
ingest schedule: one missed run is tolerated, two are not).  Reasons are fixed phrases;
never a URL, a path, a host or an exception text, which could carry a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str
    age_seconds: float | None = None

    def body(self) -> dict:
        out: dict = {"status": "ready" if self.ready else "not ready", "reason": self.reason}
        if self.age_seconds is not None:
            out["data_age_seconds"] = round(self.age_seconds)
        return out


def readiness(*, reachable: bool, snapshot_loaded: bool, last_load: datetime | None, now: datetime,
              max_age: float) -> Readiness:
    """The decision, from facts gathered by the caller (``now`` is the caller's clock)."""
    if not reachable:
        return Readiness(False, "warehouse unreachable")
    if not snapshot_loaded:
        return Readiness(False, "no data loaded yet")
    if last_load is None:
        return Readiness(False, "warehouse holds no load yet")
    if last_load.tzinfo is None:
        last_load = last_load.replace(tzinfo=UTC)
    age = (now - last_load).total_seconds()
    if age > max_age:
        return Readiness(False, f"data is stale: last load {age:.0f} s ago, limit {max_age:.0f} s", age)
    return Readiness(True, "ok", age)
