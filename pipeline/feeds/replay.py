"""Replay: re-run parsing and everything after it from the raw zone, without the network.

Why: parsers and extractors get fixed; the raw zone keeps every feed and page body exactly
as served, so a fixed parser can be applied to what we already fetched.  ``replay`` reads
the feed bodies first seen in ``[since, until)``, parses them, takes article pages from the
raw zone (the latest body stored for the page URL; a page never fetched is a counted
``page:page_not_in_raw_zone`` reject), normalizes, writes one articles batch, then runs the
same stages as ``newsflow run``: dedup, warehouse load, related (``pipeline.run.replay_pass``:
ingestion never drives the later stages itself).  Entries already in the
lake are processed again on purpose (that is the point); the warehouse upserts by
article id, so a replay updates rows instead of duplicating them.  ``run_ts`` is the
caller's clock (the Airflow reprocessing DAG passes its logical date).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from pipeline.config import Settings
from pipeline.extract.html import extract_page
from pipeline.ingest import IngestReport, _one_per_id, build_articles, write_outputs
from pipeline.lake import raw, tombstones
from pipeline.lake.articles import current_versions
from pipeline.lake.store import ObjectStore, open_store
from pipeline.models import Entry, FeedSpec, NewsflowError, PageContent, Reject
from pipeline.revisions import classify

from .parse import parse_feed
from .poll import stamp_entries

log = logging.getLogger(__name__)


class NotInRawZone(NewsflowError):
    reason = "page_not_in_raw_zone"


@dataclass
class ReplaySummary:
    ingest: IngestReport
    feed_bodies: int
    dedup: object = None
    load: object = None
    related: object = None

    def render(self) -> str:
        i = self.ingest
        lines = [
            f"replayed feed bodies: {self.feed_bodies} ({i.feeds_ok} parsed, {i.feeds_failed} failed)",
            f"entries: {i.entries}; pages from the raw zone: {i.pages_fetched}",
            f"articles written: {i.articles_new}" + (f" (batch {i.batch_id})" if i.batch_id else ""),
            f"rejects: {len(i.rejects)}" + "".join(f"\n  {k}: {v}" for k, v in i.rejects_by_reason.items()),
        ]
        if self.load is not None:
            lines.append(f"warehouse: {self.load.rows_loaded} rows merged from {self.load.batches_loaded} batches")
        return "\n".join(lines)


def raw_pages(store: ObjectStore):
    def get(entry: Entry) -> tuple[PageContent, str, datetime]:
        rec = raw.latest_record(store, entry.link or "", kind="page")
        if rec is None:
            raise NotInRawZone(f"no stored page for {entry.link}")
        return extract_page(raw.load_body(store, rec.sha256), rec.final_url), rec.final_url, rec.fetched_at

    return get


def replay_ingest(
    settings: Settings,
    *,
    since: datetime,
    until: datetime | None = None,
    run_ts: datetime,
    store: ObjectStore | None = None,
    progress: bool = False,
) -> tuple[IngestReport, int]:
    """The ingest half of a replay: raw feed bodies -> articles batch (no network)."""
    store = store or open_store(settings)
    report = IngestReport(run_ts=run_ts)
    records = raw.feed_records_between(store, since, until)
    pages = raw_pages(store)
    articles = []
    for rec in records:
        meta = rec.meta or {}
        spec = FeedSpec(url=meta.get("feed_url") or rec.url, name=meta.get("name"), language=meta.get("language"))
        try:
            parsed = parse_feed(raw.load_body(store, rec.sha256), rec.final_url, rec.headers.get("content-type"))
        except NewsflowError as exc:
            report.feeds_failed += 1
            report.rejects.append(Reject("parse", spec.url, exc.reason, str(exc)))
            continue
        report.feeds_ok += 1
        entries = stamp_entries(parsed.entries, spec)
        report.entries += len(entries)
        sub = IngestReport(run_ts=rec.fetched_at)
        articles += build_articles(entries, pages, settings, sub, progress=False)
        report.pages_fetched += sub.pages_fetched
        report.rejects.extend(sub.rejects)
    # newest body wins for an article seen in several replayed bodies; then revisions and
    # tombstones as in a forced ingest (an older version replayed is history, never current)
    articles, refused = classify(store, _one_per_id(list(reversed(articles))), current_versions(store),
                                 tombstones.load(store), report.revisions, force=True)
    report.rejects.extend(refused)
    write_outputs(store, report, articles, [], [])
    return report, len(records)
