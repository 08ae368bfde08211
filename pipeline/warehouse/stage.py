"""Warehouse load stage: merge committed lake batches, rejects and the latest dedup generation.

Called by ``newsflow run`` and the Airflow process DAG.  Works on DuckDB and PostgreSQL
(``pipeline.warehouse.backend``).  Every unit merges in its own transaction and lands in the
load ledger, so a rerun skips what is done and a failed batch is retried next time while
the batches after it still load (the failure is logged and counted in the report).

Issue 13: a dropped connection re-runs the stage on a new connection
(:func:`pipeline.warehouse.session.with_writer`: units already committed are skipped), and
a DuckDB file held by another process (an analyst's read-only shell) defers the load:
the report says so, the run does not fail, the lake keeps the batches and the next run
loads them.  A batch whose file is unreadable is quarantined by the lake and skipped; the
dedup generation is then applied to the articles present, and ledgered only once complete,
so stories are always valid and complete themselves when the batch loads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.config import Settings
from pipeline.lake import corrections as lake_corrections
from pipeline.lake import dedup_zone, tombstones
from pipeline.lake.batches import list_batches, read_batch
from pipeline.lake.integrity import CorruptFile
from pipeline.lake.store import ObjectStore, open_store
from pipeline.warehouse import takedown
from pipeline.warehouse.takedown import scrub

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    batches_loaded: int
    rows_loaded: int
    dedup_generation: str | None
    search_indexed: bool
    batches_failed: int = 0
    failures: list[str] = field(default_factory=list)  # "batch_id: error"
    feeds: int = 0  # feed states mirrored into `feeds` (pipeline.warehouse.feed_health)
    attempt_rows: int = 0  # new `fetch_attempts` rows
    deferred: str | None = None  # why the load was put off to the next run (busy file)


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
    from pipeline.lake import maintenance
    from pipeline.warehouse.backend import WarehouseBusy
    from pipeline.warehouse.session import with_writer

    store = store or open_store(settings)
    wanted = set(batch_ids) if batch_ids is not None else None
    done = _Progress()
    pinned = maintenance.pin(store, "warehouse")  # the versions this load reads (vacuum keeps later ones)
    try:
        report = with_writer(settings, lambda be: _load(be, settings, store, run_ts, wanted, done), what="the load")
        if wanted is None and not report.failures:
            maintenance.record(store, "warehouse", pinned)
        # a takedown requested while this load ran: applied again now (issue 19)
        if {t.article_id for t in tombstones.read_all(store)} != done.seen:
            before = done.takedowns
            with_writer(settings, lambda be: _apply_tombstones(be, store, done), what="the takedowns")
            if done.takedowns > before:  # the index synced above may still hold them: rebuilt without
                from pipeline.search import sync as search_sync

                with_writer(settings, lambda be: search_sync.sync(be, settings), what="the search index")
        if done.takedowns:
            scrub(settings)
        return report
    except WarehouseBusy as exc:
        log.warning("load deferred: %s; the lake keeps the batches and the next run loads them", exc)
        return LoadReport(done.batches, done.rows, None, False, len(done.failures), list(done.failures),
                          deferred=str(exc))


@dataclass
class _Progress:
    """What earlier connections of this stage already merged (kept across reconnects)."""

    batches: int = 0
    rows: int = 0
    failures: list[str] = field(default_factory=list)
    takedowns: int = 0  # tombstones applied to the warehouse by this load
    seen: set[str] = field(default_factory=set)  # tombstoned ids this load has checked


def _apply_tombstones(be, store: ObjectStore, done: _Progress) -> None:
    """Mirror the lake's tombstones the warehouse has not applied yet (a takedown requested
    while the warehouse was unreachable, or while this load ran): rows out, audit row in."""
    stones = tombstones.read_all(store)
    done.seen = {t.article_id for t in stones}
    if not stones:
        return
    have = takedown.taken_down(be)
    missing = [t for t in stones if t.article_id not in have]
    done.takedowns += len(takedown.apply(be, missing))


def _load(be, settings: Settings, store: ObjectStore, run_ts: datetime, wanted: set[str] | None,
          done: _Progress) -> LoadReport:
    from pipeline.search.sync import Prepared

    prepared = Prepared(settings)
    try:
        return _load_with(be, settings, store, run_ts, wanted, done, prepared)
    finally:
        prepared.close()


def _load_with(be, settings: Settings, store: ObjectStore, run_ts: datetime, wanted: set[str] | None,
               done: _Progress, prepared) -> LoadReport:
    from pipeline.failpoints import failpoint
    from pipeline.warehouse import loads
    from pipeline.warehouse.feed_health import load_feed_health

    be.migrate()
    if settings.search_pg_tsvector and be.name == "postgres":  # optional analyst full text (issue 15)
        with be.transaction():
            be.lock("migrations")
            be.script("fts_enable")
    _apply_tombstones(be, store, done)
    loaded = be.loaded_batches("articles")
    generation = dedup_zone.read_latest(store)  # read first: new articles are inserted with their stories
    stories = loads.story_columns(generation.assignments if generation else None)
    failed: dict[str, str] = {}
    for manifest in list_batches(store, "articles"):
        if manifest.batch_id in loaded or (wanted is not None and manifest.batch_id not in wanted):
            continue
        try:
            table = read_batch(store, manifest)
            prepared.add(manifest.batch_id, table)  # the index's analysis runs while the warehouse merges
            n = loads.load_articles(be, manifest.batch_id, table, run_ts, stories)
        except Exception as exc:  # the batch rolled back; the ledger will retry it
            prepared.discard(manifest.batch_id)
            if be.is_connection_lost(exc):
                raise  # not this batch's fault: reconnect and go on (session.with_writer)
            log.error("load: batch %s failed and rolled back: %s", manifest.batch_id, _one_line(exc))
            failed[manifest.batch_id] = f"{manifest.batch_id}: {_one_line(exc)}"
            continue
        done.rows += n
        done.batches += 1 if n or manifest.rows == 0 else 0
        failpoint("mid_load")
    done.failures = list(failed.values())
    if generation and generation.generation_id not in be.loaded_batches("dedup"):
        loads.apply_dedup(be, generation.generation_id, generation.assignments, generation.edges, run_ts,
                          aliases=generation.aliases)
    elif generation and generation.generation_id not in be.loaded_batches("story_aliases"):
        # stories applied by a load that predates story_aliases (migration 009): catch up
        loads.replace_story_aliases(be, generation.generation_id, generation.aliases, run_ts)
    loads.load_corrections(be, lake_corrections.read_all(store))  # editors' corrections (issue 17)
    from pipeline.search import sync as search_sync

    indexed = search_sync.sync(be, settings, prepared=prepared).rows > 0  # ledgered batches + re-pointed stories
    done_rejects = be.loaded_batches("rejects")
    for manifest in list_batches(store, "rejects"):
        if manifest.batch_id not in done_rejects:
            try:
                loads.load_rejects(be, manifest.batch_id, read_batch(store, manifest), run_ts)
            except CorruptFile as exc:  # quarantined; the other batches go on
                done.failures.append(f"{manifest.batch_id}: {exc}")
    health = load_feed_health(settings, run_ts=run_ts, store=store, backend=be)
    gen_id = generation.generation_id if generation else None
    log.info("load: batches=%d rows=%d failed=%d dedup=%s feeds=%d attempts=%d", done.batches, done.rows,
             len(done.failures), gen_id, health.feeds, health.attempt_rows)
    return LoadReport(done.batches, done.rows, gen_id, indexed, len(done.failures), list(done.failures),
                      health.feeds, health.attempt_rows)


def _one_line(exc: BaseException) -> str:
    from pipeline.redact import redact

    text = str(exc).strip()
    return redact(f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": "))
