"""Warehouse load stage: merge committed lake batches, rejects and the latest dedup generation.

Called by ``newsflow run`` and the Airflow process DAG.  Works on DuckDB and PostgreSQL
(``pipeline.warehouse.backend``).  Every unit merges in its own transaction and lands in the
load ledger, so a rerun skips what is done and a failed batch is retried next time while
the batches after it still load (the failure is logged and counted in the report).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.config import Settings
from pipeline.lake import dedup_zone
from pipeline.lake.batches import list_batches, read_batch
from pipeline.lake.store import ObjectStore, open_store

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    batches_loaded: int
    rows_loaded: int
    dedup_generation: str | None
    search_indexed: bool
    batches_failed: int = 0
    failures: list[str] = field(default_factory=list)  # "batch_id: error"
    feeds: int = 0  # feed states mirrored into `feeds` (pipeline.feeds.health)
    attempt_rows: int = 0  # new `fetch_attempts` rows


def load_warehouse(
    settings: Settings,
    *,
    run_ts: datetime,
    store: ObjectStore | None = None,
    batch_ids: Iterable[str] | None = None,
) -> LoadReport:
    """Merge committed article batches (all, or ``batch_ids``) and the latest dedup generation.

    Loads of different batches may run at once (several processes or threads): PostgreSQL
    merges them concurrently, DuckDB takes them one at a time (one writer per file).
    """
    from pipeline.feeds.health import load_feed_health
    from pipeline.warehouse import loads
    from pipeline.warehouse.backend import open_backend

    store = store or open_store(settings)
    wanted = set(batch_ids) if batch_ids is not None else None
    batches = rows = 0
    failures: list[str] = []
    with open_backend(settings) as be:
        be.migrate()
        backfilled = loads.sync_search_docs(be)
        done = be.loaded_batches("articles")
        for manifest in list_batches(store, "articles"):
            if manifest.batch_id in done or (wanted is not None and manifest.batch_id not in wanted):
                continue
            try:
                n = loads.load_articles(be, manifest.batch_id, read_batch(store, manifest), run_ts)
            except Exception as exc:  # the batch rolled back; the ledger will retry it
                log.error("load: batch %s failed and rolled back: %s", manifest.batch_id, exc)
                failures.append(f"{manifest.batch_id}: {type(exc).__name__}: {exc}")
                continue
            rows += n
            batches += 1 if n or manifest.rows == 0 else 0
        generation = dedup_zone.read_latest(store)
        if generation and generation.generation_id not in be.loaded_batches("dedup"):
            loads.apply_dedup(be, generation.generation_id, generation.assignments, generation.edges, run_ts,
                              aliases=generation.aliases)
        elif generation and generation.generation_id not in be.loaded_batches("story_aliases"):
            # stories applied by a load that predates story_aliases (migration 009): catch up
            loads.replace_story_aliases(be, generation.generation_id, generation.aliases, run_ts)
        indexed = False
        if batches or backfilled:
            indexed = loads.rebuild_search(be)
        done_rejects = be.loaded_batches("rejects")
        for manifest in list_batches(store, "rejects"):
            if manifest.batch_id not in done_rejects:
                loads.load_rejects(be, manifest.batch_id, read_batch(store, manifest), run_ts)
        health = load_feed_health(settings, run_ts=run_ts, store=store, backend=be)
    gen_id = generation.generation_id if generation else None
    log.info("load: batches=%d rows=%d failed=%d dedup=%s feeds=%d attempts=%d", batches, rows,
             len(failures), gen_id, health.feeds, health.attempt_rows)
    return LoadReport(batches, rows, gen_id, indexed, len(failures), failures, health.feeds, health.attempt_rows)

