"""Per-feed polling state, kept in the LAKE as one small JSON object per feed.

Why the lake and not the warehouse: in Airflow the ingest stage runs as parallel mapped
tasks (feed shards), and DuckDB allows one writing process per file.  Each feed belongs to
exactly one shard (shards split the registry by host), so the shard that polls a feed is
the only writer of ``state/feeds/<url-hash>.json``: no locks, no shared writer.  The
warehouse load stage mirrors these objects into the ``feeds`` table for analysts
(:mod:`pipeline.feeds.health`).  The key is the hash of the feed's REGISTRY url, which
never changes; a permanent redirect is recorded in ``current_url`` and used for fetching.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime

from pipeline.lake.raw import url_hash
from pipeline.lake.store import ObjectStore

PREFIX = "state/feeds/"
_TIMES = ("next_poll_at", "last_attempt_at", "last_success_at", "last_new_entries_at", "parked_at")


@dataclass
class FeedState:
    url: str  # the registry URL: the feed's identity
    name: str | None = None
    language: str | None = None
    current_url: str | None = None  # where permanent redirects (301/308) ended
    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None  # HTTP status of the last attempt (None: no answer)
    last_outcome: str | None = None  # ok | not_modified | error
    last_reason: str | None = None  # reason code of the last failure
    last_error: str | None = None
    consecutive_errors: int = 0
    total_errors: int = 0
    total_polls: int = 0
    next_poll_at: datetime | None = None
    last_attempt_at: datetime | None = None  # the run_ts of the last poll
    last_success_at: datetime | None = None
    last_new_entries_at: datetime | None = None
    last_entries: int = 0
    ttl_minutes: int | None = None  # the feed's own <ttl>, kept for 304 answers
    parked: bool = False
    parked_at: datetime | None = None
    # guid -> entry hash of the entries the feed served last time (issue 19): an entry
    # served again unchanged is not looked at again, a changed one may be a revision
    entry_hashes: dict[str, str] = field(default_factory=dict)

    @property
    def fetch_url(self) -> str:
        return self.current_url or self.url

    @property
    def health(self) -> str:
        """ok | failing | parked | new: one word for ``newsflow feeds status``."""
        if self.parked:
            return "parked"
        if self.last_outcome is None:
            return "new"
        return "failing" if self.consecutive_errors else "ok"

    def to_json(self) -> bytes:
        data = asdict(self)
        for k in _TIMES:
            data[k] = data[k].isoformat() if data[k] else None
        return json.dumps(data, sort_keys=True, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> FeedState:
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        for k in _TIMES:
            if data.get(k):
                data[k] = datetime.fromisoformat(data[k])
        return cls(**data)


def state_key(url: str) -> str:
    return f"{PREFIX}{url_hash(url)}.json"


def load_state(store: ObjectStore, url: str) -> FeedState | None:
    key = state_key(url)
    if not store.exists(key):
        return None
    return FeedState.from_json(store.get(key))


def save_state(store: ObjectStore, state: FeedState) -> None:
    store.put(state_key(state.url), state.to_json())


def iter_states(store: ObjectStore) -> list[FeedState]:
    """Every feed's state, sorted by URL (a malformed object is skipped, not fatal)."""
    out = []
    for key in store.list(PREFIX):
        if key.endswith(".json"):
            try:
                out.append(FeedState.from_json(store.get(key)))
            except (ValueError, TypeError, KeyError):
                continue
    return sorted(out, key=lambda s: s.url)
