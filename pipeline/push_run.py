"""``newsflow push serve``: WebSub callbacks processed on arrival, in small batches.

The receiver (``pipeline.feeds.push``) stores each signed push in the raw zone before it
answers the hub; this module collects arrivals for ``window`` seconds (so a burst of
pushes becomes one lake batch, not one per push) and runs the polled path from parsing
on: articles batch, dedup, warehouse load, related (``pipeline.ingest.ingest_pushed`` and
``pipeline.stages``).  Under Airflow (``airflow_api_url`` set) it writes the batch and posts
an asset event instead, so ``newsflow_process`` runs the later stages
(``pipeline.asset_events``).  Every batch logs its timings (arrival -> raw, -> processing start,
-> warehouse), which the test reads.  Polling stays the safety net: a push that arrives
while the process is down is simply polled later.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.config import Settings
from pipeline.feeds import websub
from pipeline.lake import raw
from pipeline.lake.store import ObjectStore
from pipeline.models import FeedSpec

log = logging.getLogger(__name__)


@dataclass
class PushBatch:
    pushes: int
    articles: int
    batch_id: str | None
    to_raw_s: list[float] = field(default_factory=list)  # arrival -> stored, per push
    to_start_s: float = 0.0  # first arrival -> processing start
    to_warehouse_s: float = 0.0  # first arrival -> warehouse loaded
    event: str | None = None  # under Airflow: "posted", or why not


class PushProcessor:
    """A worker thread turning arrivals into lake batches and warehouse loads."""

    def __init__(self, settings: Settings, store: ObjectStore, window: float = 1.0) -> None:
        self.settings, self.store, self.window = settings, store, window
        self.arrivals: queue.Queue = queue.Queue()
        self.batches: list[PushBatch] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="push-processor", daemon=True)

    def on_push(self, sub: websub.Subscription, record: raw.RawRecord, arrived: float) -> None:
        self.arrivals.put((sub, record, arrived, time.monotonic()))

    def start(self) -> PushProcessor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                first = self.arrivals.get(timeout=0.2)
            except queue.Empty:
                continue
            items = [first]
            deadline = time.monotonic() + self.window
            while time.monotonic() < deadline:
                try:
                    items.append(self.arrivals.get(timeout=max(deadline - time.monotonic(), 0.01)))
                except queue.Empty:
                    break
            try:
                self.batches.append(self.process(items))
            except Exception:  # one bad batch never stops the receiver; polling catches up
                log.exception("push: processing %d arrivals failed; polling will pick them up", len(items))

    def process(self, items: list) -> PushBatch:
        from pipeline.ingest import ingest_pushed
        from pipeline.stages import dedup, load_warehouse, refresh_related

        started = time.monotonic()
        first = min(arrived for _, _, arrived, _ in items)
        run_ts = datetime.now(UTC)  # the edge's clock, passed to every stage
        records = [(FeedSpec(url=sub.feed_url), rec) for sub, rec, _, _ in items]
        report = ingest_pushed(self.settings, records, run_ts=run_ts, store=self.store)
        event = None
        if report.batch_id and self.settings.airflow_api_url:
            # under Airflow the process DAG owns the later stages: start it now
            from pipeline.asset_events import AssetEventError, articles_written

            try:
                articles_written(self.settings, report.batch_uri or report.batch_id, via="websub")
                event = "posted"
            except AssetEventError as exc:  # the batch is committed; the next process run takes it
                event = str(exc)
                log.warning("push: %s", exc)
        elif report.batch_id:
            dedup(self.settings, store=self.store)
            load_warehouse(self.settings, run_ts=run_ts, store=self.store)
            refresh_related(self.settings, store=self.store, run_ts=run_ts)
        batch = PushBatch(len(items), report.articles_new, report.batch_id,
                          [round(stored - arrived, 3) for _, _, arrived, stored in items],
                          round(started - first, 3), round(time.monotonic() - first, 3), event)
        log.info("push batch: %d pushes, %d new articles (%s); push->raw max %.3fs, ->process %.3fs, "
                 "->warehouse %.3fs", batch.pushes, batch.articles, batch.batch_id, max(batch.to_raw_s),
                 batch.to_start_s, batch.to_warehouse_s)
        return batch
