"""Fetch attempts: one row per feed or page request of a run, a batch of the lake's
``fetch_attempts`` Delta table.

Why a batch per run/shard: every ingest shard writes its own batch, keyed by the run's
``run_ts`` and a hash of the shard's feed URLs, so a retried task replaces its own batch
instead of adding a copy (parallel shards commit to the same table; Delta resolves the
commit race).  The
warehouse load stage copies new batches into ``fetch_attempts``
(:func:`pipeline.warehouse.feed_health.load_feed_health`).  ``attempted_at`` is an observation
(when the request went out); ``run_ts`` is the run that decided to make it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import pyarrow as pa

from pipeline.lake.batches import Batch, list_batches, read_batch, write_batch
from pipeline.lake.schema import with_version
from pipeline.lake.store import ObjectStore

KIND = "fetch_attempts"
_TS = pa.timestamp("us", tz="UTC")

ATTEMPT_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("seq", pa.int32()),
        ("run_ts", _TS),
        ("kind", pa.string()),  # feed | page
        ("feed_url", pa.string()),  # registry URL of the feed (for pages: the entry's feed)
        ("url", pa.string()),  # the URL requested
        ("final_url", pa.string()),
        ("attempted_at", _TS),
        ("outcome", pa.string()),  # ok | not_modified | error
        ("status", pa.int32()),
        ("reason", pa.string()),  # reject reason code when outcome = error
        ("detail", pa.string()),
        ("elapsed_ms", pa.float64()),
        ("bytes", pa.int64()),
        ("body_sha256", pa.string()),
        ("entries", pa.int32()),
        ("consecutive_errors", pa.int32()),
        ("next_poll_at", _TS),
        ("parked", pa.bool_()),
    ]
)


@dataclass
class Attempt:
    kind: str
    feed_url: str
    url: str
    attempted_at: datetime
    outcome: str
    final_url: str | None = None
    status: int | None = None
    reason: str | None = None
    detail: str | None = None
    elapsed_ms: float | None = None
    bytes: int | None = None
    body_sha256: str | None = None
    entries: int | None = None
    consecutive_errors: int | None = None
    next_poll_at: datetime | None = None
    parked: bool | None = None


def attempts_batch_id(run_ts: datetime, feed_urls: Sequence[str]) -> str:
    """Deterministic per (run, shard): the same shard of the same run writes the same key."""
    digest = hashlib.sha256("\n".join(sorted(feed_urls)).encode()).hexdigest()[:12]
    return f"{run_ts:%Y%m%dT%H%M%SZ}-{digest}"


def write_attempts(
    store: ObjectStore, run_ts: datetime, feed_urls: Sequence[str], attempts: list[Attempt]
) -> Batch:
    batch_id = attempts_batch_id(run_ts, feed_urls)
    ordered = sorted(attempts, key=lambda a: (a.kind != "feed", a.feed_url, a.url, a.attempted_at))
    rows = [
        {**asdict(a), "batch_id": batch_id, "seq": i, "run_ts": run_ts}
        for i, a in enumerate(ordered)
    ]
    table = pa.Table.from_pylist(rows, schema=with_version(ATTEMPT_SCHEMA, KIND))
    return write_batch(store, KIND, batch_id, table, meta={"attempts": len(rows)})


def attempt_batches(store: ObjectStore) -> list[Batch]:
    return list_batches(store, KIND)


def read_attempts(store: ObjectStore, manifest: Batch) -> pa.Table:
    return read_batch(store, manifest)
