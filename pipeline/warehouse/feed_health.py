"""Mirror feed health from the lake into the warehouse tables ``feeds`` and ``fetch_attempts``.

Called once by the warehouse load stage (one writer, after all ingest shards finished), so
the parallel ingest shards never touch the warehouse.  Both copies are idempotent:
``feeds`` is an upsert of every ``state/feeds/*.json`` object; each fetch-attempt batch not
yet in the load ledger (kind ``fetch_attempts``) replaces its own rows (delete + insert in
one transaction), so a batch rewritten by a retried shard is never counted twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from pipeline.config import Settings
from pipeline.feeds.attempts import KIND, attempt_batches, read_attempts
from pipeline.feeds.health import feeds_table
from pipeline.lake.integrity import CorruptFile
from pipeline.lake.store import ObjectStore, open_store
from pipeline.warehouse.backend import open_backend

log = logging.getLogger(__name__)


@dataclass
class HealthLoadReport:
    feeds: int = 0
    attempt_batches: int = 0
    attempt_rows: int = 0


def load_feed_health(
    settings: Settings,
    *,
    run_ts: datetime,
    store: ObjectStore | None = None,
    backend: object | None = None,
) -> HealthLoadReport:
    """Upsert feed states and new fetch-attempt batches; ``backend`` reuses an open one."""
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
