"""``newsflow backfill warc``: years of archive into the lake, as ordinary batches.

Each WARC file is read record by record (``pipeline.feeds.warc``); every HTML page that
passes the filters becomes an entry with no feed text, so it takes the very path of a
fetched teaser's page: ``extract_page`` then ``build_article`` (canonical URL, language,
attribution, dates: the page's own date first, else the capture's WARC-Date), in a
process per core.  Captures of a URL already in the lake, or seen earlier in the run, are kept
once.  Articles are written in batches of ``batch_size``; after each batch commits, the
file's resume offset is saved (``state/backfill/``), so a crash or a stop costs at most one
batch and a rerun skips what is done.  Dedup, the warehouse load and the related refresh
then run once over everything (an old original re-points its later translations).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.config import Settings
from pipeline.extract.html import extract_page
from pipeline.extract.revisions import fingerprint
from pipeline.extract.urls import canonicalize_url
from pipeline.feeds.warc import ReadStats, WarcFilter, WarcPage, open_source, read_pages
from pipeline.ingest import IngestReport, write_outputs
from pipeline.lake import tombstones
from pipeline.lake.articles import current_versions, known_entries, note_written
from pipeline.lake.store import ObjectStore
from pipeline.models import Article, Entry, NewsflowError, Reject
from pipeline.normalize import build_article
from pipeline.revisions import classify

log = logging.getLogger(__name__)
FEED = "warc:backfill"  # the feed_url of backfilled articles (their guid is the URL)
STATE = "state/backfill/"


@dataclass
class FileReport:
    source: str
    records: int = 0
    pages: int = 0
    articles: int = 0
    duplicates: int = 0
    batches: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    rejects: dict[str, int] = field(default_factory=dict)
    resumed_at: int = 0
    done: bool = False


def _state_key(source: str) -> str:
    return STATE + hashlib.sha256(source.encode()).hexdigest()[:24] + ".json"


def load_progress(store: ObjectStore, source: str) -> dict:
    key = _state_key(source)
    return json.loads(store.get(key)) if store.exists(key) else {"source": source, "offset": 0, "done": False}


def save_progress(store: ObjectStore, progress: dict) -> None:
    store.put(_state_key(progress["source"]), json.dumps(progress, sort_keys=True).encode())


_WORKER: tuple[Settings, int] | None = None  # (settings, passes), sent once by the pool's initializer


def _init_worker(settings: Settings, passes: int) -> None:
    global _WORKER
    _WORKER = (settings, passes)
    # The ~100,000 objects of the imported modules live as long as the worker: out of the
    # collector's sight, its full collections (~2 % of a page's time before) stop rescanning them.
    gc.freeze()


def _article(item: tuple[bytes, str, datetime], settings: Settings | None = None, passes: int = 2) -> Article | Reject:
    """One page through extraction and normalization, the path of a fetched teaser's page
    (``extract_page`` then ``build_article``), or its reject."""
    body, url, captured = item
    if settings is None:
        settings, passes = _WORKER
    try:
        article = build_article(Entry(feed_url=FEED, guid=url, link=url, title=""),
                                extract_page(body, url, passes=passes), captured, settings, final_url=url)
        # here, on every core: in the parent it took a tenth of the path's time
        article.content_fingerprint = fingerprint(article.title, article.body_text)
        return article
    except NewsflowError as exc:
        return Reject("page", url, exc.reason, str(exc))
    except Exception as exc:  # one bad page must never kill the batch
        return Reject("normalize", url, "internal_error", repr(exc)[:500])


class Extractor:
    """Extraction and normalization over every core: trafilatura and the language
    detector are Python under the GIL, so threads would keep a backfill on one core.
    ``workers=1`` works in this process.

    ``submit`` returns at once: the caller reads the next batch and writes the previous
    one while the workers extract, so the workers never wait for the reader or the lake.
    """

    def __init__(self, settings: Settings, workers: int | None = None, passes: int = 2) -> None:
        self.settings, self.passes = settings, passes
        self.workers = workers or os.cpu_count() or 1
        self._pool = None

    def __enter__(self) -> Extractor:
        if self.workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_worker, initargs=(self.settings, self.passes))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def submit(self, items: list[tuple]) -> Callable[[], list[Article | Reject]]:
        """Start a batch; the returned function waits for its results, in order."""
        if self._pool is None or len(items) < 2 * self.workers:
            done = [_article(i, self.settings, self.passes) for i in items]
            return lambda: done
        size = max(1, len(items) // (4 * self.workers))
        futures = [self._pool.submit(_chunk, items[i:i + size]) for i in range(0, len(items), size)]
        return lambda: [a for f in futures for a in f.result()]

    def map(self, items: list[tuple]) -> list[Article | Reject]:
        return self.submit(items)()


def _chunk(items: list[tuple]) -> list[Article | Reject]:
    return [_article(i) for i in items]


def backfill_file(settings: Settings, store: ObjectStore, source: str, filters: WarcFilter, *,
                  run_ts: datetime, seen: set[str], known: set[tuple[str, str]],
                  batch_size: int = 500, extractor: Extractor | None = None, passes: int = 2) -> FileReport:
    """One WARC file into the lake, resumable (module docstring)."""
    progress = load_progress(store, source)
    report = FileReport(source, resumed_at=progress["offset"], done=progress["done"])
    if progress["done"]:
        return report
    extractor = extractor or Extractor(settings, 1, passes)
    stats = ReadStats()
    pages: dict[str, WarcPage] = {}
    in_flight: list[tuple[Callable[[], list[Article | Reject]], int]] = []
    current = current_versions(store)  # read once per file, then kept up to date batch by batch

    def commit(results: Callable[[], list[Article | Reject]], resume_at: int) -> None:
        batch = IngestReport(run_ts=run_ts)
        done = results()
        articles = [a for a in done if isinstance(a, Article)]
        batch.rejects.extend(r for r in done if isinstance(r, Reject))
        batch.pages_fetched = len(done)
        articles, refused = classify(store, articles, current, tombstones.load(store),
                                     batch.revisions, force=False)  # revisions and takedowns (issue 19)
        batch.rejects.extend(refused)
        write_outputs(store, batch, articles, [], [])
        note_written(current, articles)
        report.articles += batch.articles_new
        if batch.batch_id:
            report.batches.append(batch.batch_id)
        for r in batch.rejects:
            report.rejects[f"{r.stage}:{r.reason}"] = report.rejects.get(f"{r.stage}:{r.reason}", 0) + 1
        progress.update(offset=max(resume_at, 0), done=resume_at < 0)
        save_progress(store, progress)  # after the batch commits: a crash redoes one batch at most

    def flush(resume_at: int) -> None:
        """Start this batch, then commit the one before it (batches commit in file order)."""
        in_flight.append((extractor.submit([(p.body, u, p.date or run_ts) for u, p in pages.items()]), resume_at))
        pages.clear()
        if len(in_flight) > 1:
            commit(*in_flight.pop(0))

    for page in read_pages(lambda at: open_source(source, at, settings), filters, stats, start=progress["offset"]):
        report.pages += 1
        key = canonicalize_url(page.url)
        if key in seen or (FEED, page.url) in known:
            report.duplicates += 1
            continue
        seen.add(key)
        pages[page.url] = page
        if len(pages) >= batch_size:
            flush(page.next_offset)
    flush(-1)  # the end of the file: done
    while in_flight:
        commit(*in_flight.pop(0))
    report.records, report.skipped, report.done = stats.records, dict(stats.skipped), True
    log.info("backfill %s: %d records, %d pages, %d articles in %d batches, %d duplicates, skipped %s",
             source, report.records, report.pages, report.articles, len(report.batches), report.duplicates,
             report.skipped)
    return report


def backfill(settings: Settings, store: ObjectStore, sources: Sequence[str], filters: WarcFilter, *,
             run_ts: datetime, batch_size: int = 500, workers: int | None = None,
             passes: int = 2) -> list[FileReport]:
    """Every source file in turn (shared duplicate tracking); stages are the caller's."""
    known = known_entries(store)
    seen: set[str] = set()
    with Extractor(settings, workers, passes) as extractor:
        return [backfill_file(settings, store, s, filters, run_ts=run_ts, seen=seen, known=known,
                              batch_size=batch_size, extractor=extractor) for s in sources]
