"""Keep the search index in step with the warehouse: after each load, and after a crash.

The warehouse is the truth; the index follows it from two durable records:

* ``load_ledger`` (kind ``articles``): every merged lake batch.  The index records the
  batches it holds (``newsflow-index.json``); a sync indexes the ledgered batches it lacks,
  reading their rows back from the warehouse (``articles.batch_id``), so what it indexes is
  what committed, current ``story_id`` included;
* ``search_queue``: articles whose ``story_id`` a dedup generation changed, queued by the
  same transaction as the change (``apply_dedup.sql``) and cleared once the index committed
  them.

So a crash anywhere (after the warehouse commit, before the index commit: failpoint
``before_index_commit``) leaves records the next sync replays, and a replay is an upsert by
``article_id``: the index never silently diverges from the warehouse.  Nothing is rebuilt
whole except by ``newsflow warehouse reindex`` (:func:`reindex`), the fix for a missing or
corrupt index.  Analysis runs on a process pool when a sync has many rows (every core),
one batch ahead of the engine's writer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.config import Settings
from pipeline.search.analysis import (
    ANALYSIS_VERSION,
    POOL_MIN_DOCS,
    analyze_many,
    make_pool,
    workers,
)
from pipeline.search.hits import hit_records, hit_rows
from pipeline.search.index import (
    SCHEMA_VERSION,
    IndexWriter,
    SearchIndexError,
    open_writer,
    read_meta,
)
from pipeline.warehouse.takedown import taken_down

log = logging.getLogger(__name__)
PAGE = 10_000  # rows per read of a rebuild


@dataclass
class SyncReport:
    batches: int = 0  # ledgered batches newly indexed
    rows: int = 0  # documents written (batches, re-pointed stories, rebuild pages)
    restories: int = 0  # documents re-pointed to another story
    version: int = 0  # the index's commit counter after the sync
    published: bool = False


def index_path(settings: Settings) -> Path:
    """Where the index lives: ``search_index``, else beside the warehouse (see config)."""
    if settings.search_index:
        return Path(settings.search_index).expanduser()
    if settings.warehouse_backend == "duckdb":
        db = settings.duckdb_path
        if db == ":memory:":
            from pipeline.errors import ConfigError

            raise ConfigError("an in-memory warehouse has no folder for its search index",
                              "set NEWSFLOW_SEARCH_INDEX to a folder")
        return Path(db).with_suffix(".search")
    from urllib.parse import urlsplit

    url = urlsplit(settings.warehouse)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{url.hostname or 'local'}-{url.port or 5432}-"
                  f"{url.path.strip('/') or 'postgres'}-{settings.warehouse_schema or 'public'}")
    lake = settings.lake.removeprefix("file://")
    base = Path(lake).expanduser().parent if "://" not in lake else Path("data")
    return base / "search" / name


def _rows(be: Any, name: str, params: dict) -> list[dict]:
    return be.query(name, params)


def _texts(rows: list[dict]) -> list[tuple]:
    return [(r["language"], r["title"], r["body_text"]) for r in rows]


class _Ahead:
    """Analysis submitted ahead of the writer: the pool works on the next unit (and the
    main thread reads it, or merges it into the warehouse) while the engine takes this one."""

    def __init__(self, pool: Executor | None) -> None:
        self.pool = pool

    def submit(self, rows: list[dict]) -> list[Future] | list[str]:
        return self.submit_texts(_texts(rows))

    def submit_texts(self, texts: list[tuple]) -> list[Future] | list[str]:
        if self.pool is None or len(texts) < POOL_MIN_DOCS:
            return analyze_many(texts)
        chunk = max(500, len(texts) // (2 * max(1, getattr(self.pool, "_max_workers", 2))))
        try:
            return [self.pool.submit(analyze_many, texts[i:i + chunk]) for i in range(0, len(texts), chunk)]
        except RuntimeError as exc:  # a broken or refused pool: analyse here, slower but the same
            log.warning("search analysis pool unavailable (%s); analysing in this process", exc)
            self.pool = None
            return analyze_many(texts)

    @staticmethod
    def result(pending: Any) -> list[str]:
        if pending and isinstance(pending[0], Future):
            out: list[str] = []
            for f in pending:
                out.extend(f.result())
            return out
        return pending


class Prepared:
    """Analysis started while the warehouse merges (the load's own batches): the pool
    analyses batch n while the main process upserts it, so the index step that follows
    only adds documents.  Keyed by batch id; the rows' ``story_id`` is read from the
    warehouse at sync time (after the dedup generation), never taken from here."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: Executor | None = None
        self.batches: dict[str, tuple[list[dict], Any, list[bytes]]] = {}

    def add(self, batch_id: str, table: pa.Table) -> None:
        """Start analysing one lake batch (as the warehouse will hold it: one row per id)."""
        if table.num_rows >= POOL_MIN_DOCS and self.pool is None:
            self.pool = make_pool(workers(self.settings.search_workers))
        import pyarrow.compute as pc

        names = ("article_id", "language", "source_domain", "title", "body_text")
        cols = {c: table[c].to_pylist() for c in names}
        seconds = pc.cast(table["published_at"], pa.timestamp("s", tz="UTC"), safe=False)
        cols["published_s"] = pc.cast(seconds, pa.int64()).to_pylist()
        keys = ("article_id", "language", "source_domain", "published_s")
        rows = [dict(zip(keys, values, strict=True)) for values in zip(*(cols[k] for k in keys), strict=True)]
        texts = list(zip(cols["language"], cols["title"], cols["body_text"], strict=True))
        self.batches[batch_id] = (rows, _Ahead(self.pool).submit_texts(texts), hit_records(table))

    def discard(self, batch_id: str) -> None:
        self.batches.pop(batch_id, None)

    def take(self, be: Any, batch_id: str) -> tuple[list[dict], Any, list[bytes]] | None:
        got = self.batches.pop(batch_id, None)
        if got is None:
            return None
        stories = {r["article_id"]: r["story_id"] for r in be.query("search_batch_stories", {"batch_id": batch_id})}
        for r in got[0]:
            r["story_id"] = stories.get(r["article_id"])
        return got

    def close(self) -> None:
        self.batches.clear()
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


Unit = tuple[list[dict], Any, list[bytes]]  # rows, their pending analysis, their stored hits


def _write_units(w: IndexWriter, units: Iterator[Unit]) -> int:
    """Upsert units in order, each once its analysis is done."""
    n = 0
    for rows, pending, hits in units:
        w.upsert(rows, _Ahead.result(pending), hits)
        n += len(rows)
    return n


def _read_ahead(rows_iter: Iterator[list[dict]], pool: Executor | None) -> Iterator[Unit]:
    """Rows read from the warehouse, their analysis submitted one unit ahead of the writer."""
    ahead = _Ahead(pool)
    pending = None
    for rows in rows_iter:
        if not rows:
            continue
        nxt = (rows, ahead.submit(rows), hit_rows(rows))
        if pending is not None:
            yield pending
        pending = nxt
    if pending is not None:
        yield pending


def sync(be: Any, settings: Settings, *, path: Path | None = None, prepared: Prepared | None = None) -> SyncReport:
    """Bring the index up to the warehouse ``be`` (a writer connection): ledgered batches
    it lacks, then queued story changes; commit; clear the queue rows it committed.
    ``prepared``: analysis the load started for its own batches (else rows are read back)."""
    from pipeline.failpoints import failpoint

    path = path or index_path(settings)
    if _outdated(path):
        log.warning("search index %s was built by an earlier newsflow (another analysis or schema); "
                    "rebuilding it from the warehouse", path)
        return reindex(be, settings, path=path)
    gone = taken_down(be)
    if gone - _purged(path):  # a takedown since the last commit: no segment may keep its terms
        _hide(path, gone - _purged(path), settings.warehouse_busy_timeout_write)
        return reindex(be, settings, path=path)
    report = SyncReport()
    with open_writer(path, timeout=settings.warehouse_busy_timeout_write) as w:
        ledger = {r["batch_id"]: int(r["rows"] or 0) for r in be.query("ledger_rows", {"kind": "articles"})}
        foreign = w.meta.held - set(ledger)
        if foreign:  # an index of another warehouse (or of one since recreated): start it over
            log.warning("search index %s holds %d batch(es) this warehouse never loaded; rebuilding it from "
                        "the warehouse", path, len(foreign))
            w.writer.delete_all_documents()
            w.meta.held = set()
        missing = sorted(set(ledger) - w.meta.held)
        queued = be.query("search_queue")
        if not missing and not queued:
            report.version = w.meta.version
            return report
        todo = sum(ledger[b] for b in missing if not (prepared and b in prepared.batches)) + len(queued)
        pool = make_pool(workers(settings.search_workers)) if todo >= POOL_MIN_DOCS else None
        try:
            indexed: set[str] = set()  # articles this sync wrote (their rows are current)
            taken: set[str] = set()  # batches whose analysis the load prepared

            def read() -> Iterator[list[dict]]:
                for b in missing:
                    if b in taken:
                        continue
                    rows = _rows(be, "search_rows_batch", {"batch_id": b})
                    indexed.update(r["article_id"] for r in rows)
                    yield rows
                rest = [q["article_id"] for q in queued if q["article_id"] not in indexed]
                for i in range(0, len(rest), PAGE):
                    rows = _rows(be, "search_rows_ids", {"ids": rest[i:i + PAGE]})
                    report.restories += len(rows)
                    yield rows

            def units() -> Iterator[Unit]:
                for b in missing:  # the load's own batches first, in load order
                    got = prepared.take(be, b) if prepared is not None else None
                    if got is not None:
                        taken.add(b)
                        indexed.update(r["article_id"] for r in got[0])
                        yield got
                yield from _read_ahead(read(), pool)

            report.rows = _write_units(w, units())
        finally:
            if pool is not None:
                pool.shutdown()
        failpoint("before_index_commit")
        meta = w.commit(set(missing))
        report.batches, report.version = len(missing), meta.version
    _clear_queue(be, queued)
    log.info("search index: %d batch(es), %d document(s) (%d re-pointed to another story), version %d",
             report.batches, report.rows, report.restories, report.version)
    if settings.search_publish:
        from pipeline.search.publish import publish

        report.published = publish(settings, path)
    return report


def _clear_queue(be: Any, queued: list[dict]) -> None:
    """Drop the queue rows the index has now committed (a row queued since stays)."""
    if not queued:
        return
    done = pa.table({"article_id": pa.array([q["article_id"] for q in queued], pa.string()),
                     "story_id": pa.array([q["story_id"] for q in queued], pa.string())})
    with be.transaction():
        be.stage("staged_queue_done", done)
        be.script("search_queue_done")


def _outdated(path: Path) -> bool:
    """An index another analysis or schema made (an upgrade): its documents cannot be reused."""
    try:
        meta = read_meta(path)
    except SearchIndexError:
        return False  # unreadable: the writer reports it with the fix
    return meta is not None and (meta.analysis != ANALYSIS_VERSION or meta.schema != SCHEMA_VERSION)


def _hide(path: Path, ids: set[str], timeout: float) -> None:
    """Delete taken-down articles' documents and commit, before the rebuild that scrubs
    their terms: hits show stored titles and snippets, and at a million articles the
    rebuild takes minutes, during which readers would still find them."""
    if read_meta(path) is None:
        return
    with open_writer(path, timeout=timeout) as w:
        for aid in sorted(ids):
            w.writer.delete_documents_by_term("article_id", aid)
        w.commit(set())
    log.info("search index: %d taken-down article(s) hidden; rebuilding without them", len(ids))


def _purged(path: Path) -> set[str]:
    try:
        meta = read_meta(path)
    except SearchIndexError:
        return set()
    return meta.purged if meta is not None else set()


def reindex(be: Any, settings: Settings, *, path: Path | None = None) -> SyncReport:
    """Rebuild the index from every warehouse row (the fix for a missing or corrupt index,
    and how a takedown leaves no trace: tantivy only marks a deleted document, and its
    terms stay in the segment until a merge); it then holds every ledgered batch, the queue
    is cleared, and published versions older than this one are deleted."""
    path = path or index_path(settings)
    report = SyncReport()
    gone = taken_down(be)  # the warehouse no longer holds their rows
    with open_writer(path, timeout=settings.warehouse_busy_timeout_write, fresh=True) as w:
        w.meta.purged = gone
        ledger = {r["batch_id"] for r in be.query("ledger_rows", {"kind": "articles"})}
        queued = be.query("search_queue")
        pool = make_pool(workers(settings.search_workers))
        try:
            def pages() -> Iterator[list[dict]]:
                after = ""
                while True:
                    rows = _rows(be, "search_rows_page", {"after": after, "limit": PAGE})
                    if not rows:
                        return
                    after = rows[-1]["article_id"]
                    yield rows

            report.rows = _write_units(w, _read_ahead(pages(), pool))
        finally:
            if pool is not None:
                pool.shutdown()
        meta = w.commit(ledger)
        report.batches, report.version = len(ledger), meta.version
    _clear_queue(be, queued)
    from pipeline.search.index import forget_readers

    forget_readers()
    if settings.search_publish:
        from pipeline.search.publish import publish

        report.published = publish(settings, path, keep=1)  # older versions may hold a taken-down article
    return report


def lag(be: Any, settings: Settings) -> dict:
    """How far the index is behind the warehouse (``newsflow warehouse status``)."""
    path = index_path(settings)
    meta = read_meta(path)
    ledger = {r["batch_id"] for r in be.query("ledger_rows", {"kind": "articles"})}
    held = meta.held if meta else set()
    return {"path": str(path), "exists": meta is not None, "version": meta.version if meta else None,
            "batches_behind": len(ledger - held), "queued": len(be.query("search_queue"))}
