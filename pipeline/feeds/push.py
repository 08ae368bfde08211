"""The WebSub callback (an ASGI app) and the subscription manager.

``PushReceiver.app`` answers a hub on ``/websub/{sub_id}``:

* ``GET``: verification of intent (``pipeline.feeds.websub.verify_intent``);
* ``POST``: a new version of the feed.  The body gets the polled feed's size limit, its
  signature is checked, and it is stored in the raw zone exactly like a polled body
  (``pipeline.lake.raw.store_fetch``, meta ``via: websub``) before the hub is answered, so
  a push is durable within milliseconds of arrival; then ``on_push`` is told (the CLI's
  ``newsflow push serve`` processes arrivals in small batches, ``pipeline.push_run``).
  A bad or missing signature is refused (403) and counted; the body is dropped.

``sync`` keeps subscriptions in step with the registry: it subscribes feeds whose latest
polled body advertises a hub, renews leases running out, and unsubscribes feeds that left
the registry.  Hub URLs come from feeds, i.e. from strangers, so requests to them go
through the fetcher's SSRF guard and limits.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.config import Settings
from pipeline.feeds import websub
from pipeline.feeds.fetch import Fetcher
from pipeline.lake import raw
from pipeline.lake.store import ObjectStore
from pipeline.models import FeedSpec, FetchResult, NewsflowError

log = logging.getLogger(__name__)

OnPush = Callable[[websub.Subscription, raw.RawRecord, float], None]  # (sub, record, arrival monotonic)


class PushReceiver:
    """The callback endpoint over the subscriptions stored in the lake."""

    def __init__(self, settings: Settings, store: ObjectStore, on_push: OnPush | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings, self.store, self.on_push, self.clock = settings, store, on_push, clock
        self._lock = threading.Lock()
        self.subs = websub.by_id(store)
        self._reloaded = 0.0

    def reload(self) -> None:
        import time

        with self._lock:
            self.subs = websub.by_id(self.store)
            self._reloaded = time.monotonic()

    def find(self, sub_id: str) -> websub.Subscription | None:
        """The subscription, re-read from the lake on a miss (``sync`` may have just
        created it in another process), at most once a second (unknown ids are noise)."""
        import time

        sub = self.subs.get(sub_id)
        if sub is None and time.monotonic() - self._reloaded > 1.0:
            self.reload()
            sub = self.subs.get(sub_id)
        return sub

    def _save(self, sub: websub.Subscription) -> None:
        with self._lock:
            self.subs[sub.sub_id] = sub
            websub.save(self.store, sub)

    def app(self):
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        async def verify(request: Request) -> PlainTextResponse:
            # verifications are rare and follow a ``sync`` (maybe in another process) that
            # changed the record: always read the lake's version
            await asyncio.to_thread(self.reload)
            sub = self.subs.get(request.path_params["sub_id"])
            status, body = websub.verify_intent(sub, dict(request.query_params), self.clock())
            if sub is not None and status == 200:
                self._save(sub)
                log.info("websub %s: %s verified for %s", sub.state, sub.topic, sub.lease_seconds)
            return PlainTextResponse(body, status_code=status)

        async def receive(request: Request) -> PlainTextResponse:
            import time

            arrived = time.monotonic()
            sub = self.find(request.path_params["sub_id"])
            if sub is None or sub.state not in ("active", "unsubscribing"):
                return PlainTextResponse("unknown subscription", status_code=410)
            limit = self.settings.max_feed_bytes
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                return PlainTextResponse("too large", status_code=413)
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    return PlainTextResponse("too large", status_code=413)
            if not websub.signature_ok(sub.secret, bytes(body), request.headers.get("x-hub-signature")):
                sub.rejected += 1
                self._save(sub)
                log.warning("websub: push for %s refused: bad or missing X-Hub-Signature", sub.topic)
                return PlainTextResponse("bad signature", status_code=403)
            now = self.clock()
            result = FetchResult(url=sub.feed_url, final_url=sub.topic, status=200,
                                 headers={k.lower(): v for k, v in request.headers.items()
                                          if k.lower() in ("content-type", "link")},
                                 body=bytes(body), fetched_at=now)
            record = await asyncio.to_thread(raw.store_fetch, self.store, "feed", result,
                                             {"feed_url": sub.feed_url, "via": "websub", "hub": sub.hub})
            sub.pushes += 1
            sub.last_push_at = now.isoformat()
            self._save(sub)
            if self.on_push is not None:
                self.on_push(sub, record, arrived)
            return PlainTextResponse("", status_code=202)

        return Starlette(routes=[Route("/websub/{sub_id}", verify, methods=["GET"]),
                                 Route("/websub/{sub_id}", receive, methods=["POST"])])


@dataclass
class SyncReport:
    subscribed: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    no_hub: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def sync(settings: Settings, store: ObjectStore, feeds: Iterable[FeedSpec], callback_base: str,
         now: datetime, fetcher: Fetcher | None = None, lease: int = websub.DEFAULT_LEASE) -> SyncReport:
    """Subscribe, renew and unsubscribe so that push follows the registry (module doc)."""
    report = SyncReport()
    own = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    current = {s.feed_url: s for s in websub.load_all(store)}
    wanted = {f.url: f for f in feeds}
    try:
        for url in sorted(wanted):
            sub = current.get(url)
            if sub is not None and sub.state in ("subscribing", "active"):
                if websub.renewal_due(sub, now):
                    _post(fetcher, sub, websub.subscribe_form(sub, callback_base, lease), report.renewed, report)
                continue
            rec = raw.latest_record(store, url, kind="feed")
            found = websub.discover(url, rec.headers, raw.load_body(store, rec.sha256)) if rec else None
            if found is None:
                report.no_hub.append(url)
                continue
            sub = websub.new_subscription(url, found[1], found[0], now)
            websub.save(store, sub)  # before asking: the hub may verify before it answers us
            _post(fetcher, sub, websub.subscribe_form(sub, callback_base, lease), report.subscribed, report)
        for url, sub in sorted(current.items()):
            if url not in wanted and sub.state in ("subscribing", "active"):
                sub.state = "unsubscribing"
                websub.save(store, sub)
                _post(fetcher, sub, websub.unsubscribe_form(sub, callback_base), report.unsubscribed, report)
    finally:
        if own:
            fetcher.close()
    return report


def _post(fetcher: Fetcher, sub: websub.Subscription, form: dict, done: list, report: SyncReport) -> None:
    try:
        result = fetcher.post_form(sub.hub, form)
    except NewsflowError as exc:
        report.failed[sub.feed_url] = f"{exc.reason}: {str(exc)[:200]}"
        log.warning("websub: hub request for %s failed: %s", sub.feed_url, exc)
        return
    if result.status == 202 or 200 <= result.status < 300:
        done.append(sub.feed_url)
