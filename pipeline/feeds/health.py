"""Mirror feed health from the lake into the warehouse tables ``feeds`` and ``fetch_attempts``.

Called once by the warehouse load stage (one writer, after all ingest shards finished), so
the parallel ingest shards never touch the warehouse.  Both copies are idempotent:
``feeds`` is an upsert of every ``state/feeds/*.json`` object; each fetch-attempt batch not
yet in the load ledger (kind ``fetch_attempts``) replaces its own rows (delete + insert in
one transaction), so a batch rewritten by a retried shard is never counted twice.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

import pyarrow as pa

from pipeline.config import Settings
from pipeline.lake.integrity import CorruptFile
from pipeline.lake.store import ObjectStore, open_store

from .attempts import KIND, attempt_batches, read_attempts
from .state import iter_states

log = logging.getLogger(__name__)
_TS = pa.timestamp("us", tz="UTC")

FEEDS_SCHEMA = pa.schema(
    [
        ("url", pa.string()), ("name", pa.string()), ("language", pa.string()),
        ("current_url", pa.string()), ("health", pa.string()), ("etag", pa.string()),
        ("last_modified", pa.string()), ("last_status", pa.int32()), ("last_outcome", pa.string()),
        ("last_reason", pa.string()), ("last_error", pa.string()),
        ("consecutive_errors", pa.int32()), ("total_errors", pa.int32()), ("total_polls", pa.int32()),
        ("next_poll_at", _TS), ("last_attempt_at", _TS), ("last_success_at", _TS),
        ("last_new_entries_at", _TS), ("last_entries", pa.int32()), ("ttl_minutes", pa.int32()),
        ("parked", pa.bool_()), ("parked_at", _TS), ("mirrored_at", _TS),
    ]
)


@dataclass
class HealthLoadReport:
    feeds: int = 0
    attempt_batches: int = 0
    attempt_rows: int = 0


def feeds_table(store: ObjectStore, mirrored_at: datetime) -> pa.Table:
    rows = []
    for s in iter_states(store):
        row = {k: v for k, v in asdict(s).items() if k in FEEDS_SCHEMA.names}
        rows.append({**row, "health": s.health, "mirrored_at": mirrored_at})
    return pa.Table.from_pylist(rows, schema=FEEDS_SCHEMA)


def load_feed_health(
    settings: Settings,
    *,
    run_ts: datetime,
    store: ObjectStore | None = None,
    backend: object | None = None,
) -> HealthLoadReport:
    """Upsert feed states and new fetch-attempt batches; ``backend`` reuses an open one."""
    from pipeline.warehouse.backend import open_backend

    store = store or open_store(settings)
    if backend is None:
        with open_backend(settings) as be:
            be.migrate()
            return _load(be, store, run_ts)
    return _load(backend, store, run_ts)


def _load(be, store: ObjectStore, run_ts: datetime) -> HealthLoadReport:
    report = HealthLoadReport()
    feeds = feeds_table(store, run_ts)
    if feeds.num_rows:
        with be.transaction():
            be.stage("staged_feeds", feeds)
            be.execute("feeds_upsert")
        report.feeds = feeds.num_rows
    done = be.loaded_batches(KIND)
    for manifest in attempt_batches(store):
        if manifest.batch_id in done:
            continue
        try:
            table = read_attempts(store, manifest)
        except CorruptFile:  # quarantined (logged with file and batch); the others go on
            continue
        with be.transaction():
            be.execute("feeds_attempts_delete", {"batch_id": manifest.batch_id})
            be.stage("staged_fetch_attempts", table)
            be.execute("feeds_attempts_insert")
            be.record_batch(KIND, manifest.batch_id, table.num_rows, run_ts)
        report.attempt_batches += 1
        report.attempt_rows += table.num_rows
    log.info("feed health: %d feeds, %d attempt rows from %d batches",
             report.feeds, report.attempt_rows, report.attempt_batches)
    return report
