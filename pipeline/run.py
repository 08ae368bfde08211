"""One full pass: ingest -> dedup -> warehouse load -> related (``newsflow run``), and the same
chain after a replay of the raw zone (``newsflow replay``): the orchestration, above every stage."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.config import Settings
from pipeline.feeds.registry import load_feeds
from pipeline.feeds.replay import ReplaySummary, replay_ingest
from pipeline.ingest import IngestReport, ingest
from pipeline.lake.store import ObjectStore, open_store
from pipeline.stages import (
    DedupReport,
    LoadReport,
    RelatedReport,
    dedup,
    load_warehouse,
    refresh_related,
)

_log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    ingest: IngestReport
    dedup: DedupReport
    load: LoadReport
    related: RelatedReport
    quarantined: list[str] = field(default_factory=list)  # "kind batch: file (problem)" found this run
    quarantined_before: int = 0  # batches already quarantined by earlier runs

    @property
    def problems(self) -> list[str]:
        """What this pass could not finish (exit 4): failed loads, newly quarantined files."""
        return [f"load failed: {f}" for f in self.load.failures] + [f"quarantined {q}" for q in self.quarantined]

    def render(self) -> str:
        i, d = self.ingest, self.dedup
        lines = [
            # disjoint counts that add up to the feeds of the registry (feeds_ok includes 304s)
            f"feeds: {i.feeds_ok + i.feeds_failed + i.feeds_not_due + i.feeds_parked} "
            f"({i.feeds_ok - i.feeds_not_modified} fetched, {i.feeds_not_modified} not modified, "
            f"{i.feeds_failed} failed, {i.feeds_not_due} not due, {i.feeds_parked} parked)"
            + (f" (newly parked: {', '.join(i.newly_parked)})" if i.newly_parked else ""),
            f"entries: {i.entries} ({i.entries_known} already stored)",
            f"pages fetched: {i.pages_fetched}",
            f"articles stored: {i.articles_new} new" + (f" (batch {i.batch_id})" if i.batch_id else ""),
            f"rejects: {len(i.rejects)}" + "".join(f"\n  {k}: {v}" for k, v in i.rejects_by_reason.items()),
            f"articles in lake: {d.articles}",
            "duplicates: " + ", ".join(f"{k} {d.counts.get(k, 0)}" for k in ("exact", "near", "translation")),
            f"stories: {d.counts.get('stories', 0)} ({d.counts.get('multi_article_stories', 0)} with several copies)",
            f"warehouse: {self.load.rows_loaded} rows merged from {self.load.batches_loaded} batches"
            + (f", {self.load.batches_failed} failed (retried next run)" if self.load.batches_failed else ""),
            f"related: {self.related.rows} rows for {self.related.canonicals} canonical articles",
        ]
        if self.load.deferred or self.related.deferred:
            lines.append(f"warehouse: load DEFERRED to the next run ({self.load.deferred or self.related.deferred}); "
                         "the lake holds everything")
        if self.quarantined or self.quarantined_before:
            lines.append(f"lake: {len(self.quarantined)} file(s) quarantined now, {self.quarantined_before} "
                         "batch(es) quarantined before (see `newsflow lake check`)")
        return "\n".join(lines)


def run_pass(
    settings: Settings, feeds_file: str, *, run_ts: datetime, progress: bool = False, force: bool = False
) -> RunSummary:
    """Ingest ``feeds_file`` then run every later stage.

    ``force`` polls every feed unconditionally and re-examines entries already stored.
    Failures of the run itself raise (``pipeline.errors``); a busy warehouse defers the
    load (reported, not raised); quarantined files are reported in the summary.
    """
    from pipeline.lake import integrity

    feeds = load_feeds(feeds_file)
    store = open_store(settings)
    seen = len(integrity.QUARANTINED_HERE)
    report = ingest(settings, feeds, run_ts=run_ts, progress=progress, store=store, force=force)
    dedup_report = dedup(settings, store=store)
    load_report = load_warehouse(settings, run_ts=run_ts, store=store)
    related_report = refresh_related(settings, store=store)
    now = [f"{k} batch {b}: {key} ({why})" for k, b, key, why in integrity.QUARANTINED_HERE[seen:]]
    before = len(integrity.quarantined(store, ["articles"])) - len({b for k, b, *_ in integrity.QUARANTINED_HERE[seen:]
                                                                  if k == "articles"})
    return RunSummary(report, dedup_report, load_report, related_report, now, max(0, before))


def replay_pass(
    settings: Settings,
    *,
    since: datetime,
    until: datetime | None = None,
    run_ts: datetime,
    store: ObjectStore | None = None,
    progress: bool = False,
) -> ReplaySummary:
    """Replay parsing and every later stage for feed bodies first seen in ``[since, until)``
    (``pipeline.feeds.replay``); ``newsflow replay``."""
    store = store or open_store(settings)
    report, n = replay_ingest(settings, since=since, until=until, run_ts=run_ts, store=store, progress=progress)
    summary = ReplaySummary(report, n)
    summary.dedup = dedup(settings, store=store)
    summary.load = load_warehouse(settings, run_ts=run_ts, store=store)
    summary.related = refresh_related(settings, store=store)
    _log.info("replay since %s until %s: %d bodies, %d articles", since, until, n, report.articles_new)
    return summary
