"""WebSub push ingestion against a spec-following hub written here, on loopback.

The hub follows the W3C WebSub Recommendation's hub side (5.1 subscribe/unsubscribe with
202, 5.3 verification of intent with a random challenge that must be echoed, 7 content
distribution with ``X-Hub-Signature``), so the subscriber's requirements are the
checklist: discovery, subscribe, verify, a signed push (every algorithm), a forged push,
lease expiry and renewal, unsubscribe.  The pushed feed is the sample corpus's Gulf Ledger
RSS with a hub link added; its articles are fetched from the sample outlets on loopback.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pipeline.config import Settings
from pipeline.feeds import push, websub
from pipeline.lake import raw
from pipeline.lake.articles import known_entries
from pipeline.lake.store import open_store
from pipeline.models import FeedSpec, FetchResult
from tests.conftest import EXAMPLES, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FEED = "http://gulfledger.example/rss.xml"


class Hub:
    """A WebSub hub: subscriptions verified by challenge, content signed per subscriber."""

    def __init__(self, lease: int = 3600, algorithm: str = "sha256") -> None:
        self.lease, self.algorithm = lease, algorithm
        self.subs: dict[tuple[str, str], dict] = {}  # (topic, callback) -> {secret, expires}
        self.verifications: list[dict] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hub"

    def app(self):
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        async def hub(request):
            from urllib.parse import parse_qs

            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            if form.get("hub.mode") not in ("subscribe", "unsubscribe") or not form.get("hub.callback"):
                return PlainTextResponse("bad request", status_code=400)
            threading.Thread(target=self._verify, args=(form,), daemon=True).start()  # async, as 5.3
            return PlainTextResponse("", status_code=202)

        return Starlette(routes=[Route("/hub", hub, methods=["POST"])])

    def _verify(self, form: dict) -> None:
        time.sleep(0.05)
        challenge = secrets.token_hex(16)
        params = {"hub.mode": form["hub.mode"], "hub.topic": form["hub.topic"], "hub.challenge": challenge}
        if form["hub.mode"] == "subscribe":
            params["hub.lease_seconds"] = str(self.lease)
        r = httpx.get(form["hub.callback"], params=params, timeout=10)
        ok = r.status_code // 100 == 2 and r.text == challenge
        self.verifications.append({"mode": form["hub.mode"], "ok": ok, "status": r.status_code})
        key = (form["hub.topic"], form["hub.callback"])
        if ok and form["hub.mode"] == "subscribe":
            self.subs[key] = {"secret": form.get("hub.secret", ""), "expires": time.time() + self.lease}
        elif ok:
            self.subs.pop(key, None)

    def publish(self, topic: str, body: bytes, forge: bool = False) -> list[httpx.Response]:
        out = []
        for (t, callback), sub in self.subs.items():
            if t != topic:
                continue
            digest = hmac.new((b"wrong" if forge else sub["secret"].encode()), body,
                              getattr(hashlib, self.algorithm)).hexdigest()
            out.append(httpx.post(callback, content=body, timeout=30, headers={
                "Content-Type": "application/rss+xml", "X-Hub-Signature": f"{self.algorithm}={digest}",
                "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"'}))
        return out

    def wait_verified(self, n: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.verifications) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.verifications) >= n, self.verifications


class Serve:
    def __init__(self, app, port: int) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _feed_with_hub(hub_url: str) -> bytes:
    body = (EXAMPLES / "sites" / "gulfledger.example" / "rss.xml").read_bytes()
    return body.replace(b'rel="self" type="application/rss+xml"/>',
                        b'rel="self" type="application/rss+xml"/>\n  <atom:link href="' + hub_url.encode() + b'" rel="hub"/>', 1)


@pytest.fixture
def world(tmp_path, demo_site):
    settings = Settings.load(lake=str(tmp_path / "lake"), warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}",
                             resolve=demo_site.resolve_setting, allow_private_networks=True)
    store = open_store(settings)
    return settings, store


def _polled(store, body: bytes) -> None:
    """What a poll of the feed left in the raw zone (discovery reads it)."""
    raw.store_fetch(store, "feed", FetchResult(FEED, FEED, 200, {"content-type": "application/rss+xml"}, body,
                                               datetime(2025, 9, 20, tzinfo=UTC)), {"feed_url": FEED})


def test_discovery_from_link_header_and_feed():
    header = {"Link": '<https://hub.example/>; rel="hub", <https://site.example/feed>; rel="self"'}
    assert websub.discover("https://site.example/f", header, b"") == ("https://hub.example/", "https://site.example/feed")
    body = b'<feed><link rel="hub" href="/hub"/><link rel="self" href="https://site.example/atom"/></feed>'
    assert websub.discover("https://site.example/f", {}, body) == ("https://site.example/hub", "https://site.example/atom")
    assert websub.discover("https://site.example/f", {}, b"<rss><channel></channel></rss>") is None


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha384", "sha512"])
def test_signature_every_algorithm(algorithm):
    body = b"<rss/>"
    sig = hmac.new(b"s3cret", body, getattr(hashlib, algorithm)).hexdigest()
    assert websub.signature_ok("s3cret", body, f"{algorithm}={sig}")
    assert not websub.signature_ok("other", body, f"{algorithm}={sig}")
    assert not websub.signature_ok("s3cret", body + b" ", f"{algorithm}={sig}")
    assert not websub.signature_ok("s3cret", body, None)
    assert not websub.signature_ok("s3cret", body, f"md5={hashlib.md5(body).hexdigest()}")


def test_verification_only_for_what_we_asked():
    now = datetime(2025, 1, 1, tzinfo=UTC)
    sub = websub.new_subscription(FEED, FEED, "http://hub/", now)
    assert websub.verify_intent(None, {"hub.mode": "subscribe", "hub.topic": FEED, "hub.challenge": "x"}, now)[0] == 404
    assert websub.verify_intent(sub, {"hub.mode": "subscribe", "hub.topic": "http://other/", "hub.challenge": "x"}, now)[0] == 404
    assert websub.verify_intent(sub, {"hub.mode": "unsubscribe", "hub.topic": FEED, "hub.challenge": "x"}, now)[0] == 404
    assert websub.verify_intent(sub, {"hub.mode": "subscribe", "hub.topic": FEED, "hub.challenge": "c1",
                                      "hub.lease_seconds": "100"}, now) == (200, "c1")
    assert sub.state == "active" and sub.expires_at == (now + timedelta(seconds=100)).isoformat()
    assert not websub.renewal_due(sub, now + timedelta(seconds=70))
    assert websub.renewal_due(sub, now + timedelta(seconds=85))
    assert "secret" not in repr(sub) and sub.secret not in repr(sub)


def test_subscribe_push_forge_renew_unsubscribe(world, capsys):
    from pipeline.push_run import PushProcessor

    settings, store = world
    hub = Hub(lease=120, algorithm="sha384")
    _polled(store, _feed_with_hub(hub.url))
    processor = PushProcessor(settings, store, window=0.5).start()
    receiver = push.PushReceiver(settings, store, on_push=processor.on_push)
    cb_port = free_port()
    base = f"http://127.0.0.1:{cb_port}"
    try:
        with Serve(hub.app(), hub.port), Serve(receiver.app(), cb_port):
            t0 = datetime.now(UTC)
            report = push.sync(settings, store, [FeedSpec(url=FEED)], base, now=t0)
            assert report.subscribed == [FEED] and not report.failed
            hub.wait_verified(1)
            assert hub.verifications[0] == {"mode": "subscribe", "ok": True, "status": 200}
            receiver.reload()
            (sub,) = websub.load_all(store)
            assert sub.state == "active" and sub.lease_seconds == 120 and sub.hub == hub.url

            # a forged push is refused and leaves nothing behind
            before = len(list(store.list("raw/fetches/")))
            (forged,) = hub.publish(FEED, b"<rss><channel><item><title>fake</title></item></channel></rss>", forge=True)
            assert forged.status_code == 403
            assert len(list(store.list("raw/fetches/"))) == before
            # a signed push lands in the raw zone, then in the lake and the warehouse
            body = _feed_with_hub(hub.url) + b"\n<!-- pushed -->"
            (ok,) = hub.publish(FEED, body)
            assert ok.status_code == 202
            assert raw.latest_record(store, FEED, kind="feed").sha256 == hashlib.sha256(body).hexdigest()
            deadline = time.monotonic() + 240
            while not processor.batches and time.monotonic() < deadline:
                time.sleep(0.1)
            (batch,) = processor.batches
            print(f"push->raw {max(batch.to_raw_s):.3f}s, push->process start {batch.to_start_s:.3f}s, "
                  f"push->warehouse {batch.to_warehouse_s:.3f}s ({batch.articles} articles)")
            assert max(batch.to_raw_s) < 2.0
            assert batch.articles == 11 and len(known_entries(store)) == 11
            import duckdb

            con = duckdb.connect(settings.duckdb_path, read_only=True)
            assert con.execute("SELECT count(*) FROM articles WHERE feed_url = ?", [FEED]).fetchone()[0] == 11
            con.close()

            # the lease runs out: sync renews it before it does, and the hub re-verifies
            later = datetime.fromisoformat(websub.load_all(store)[0].expires_at) - timedelta(seconds=10)
            assert push.sync(settings, store, [FeedSpec(url=FEED)], base, now=later).renewed == [FEED]
            hub.wait_verified(2)
            assert hub.verifications[1]["ok"]

            # the feed leaves the registry: unsubscribed, and later pushes are refused
            assert push.sync(settings, store, [], base, now=later).unsubscribed == [FEED]
            hub.wait_verified(3)
            assert hub.verifications[2] == {"mode": "unsubscribe", "ok": True, "status": 200}
            receiver.reload()
            (gone,) = websub.load_all(store)
            assert gone.state == "unsubscribed" and not hub.subs
            late = httpx.post(gone.callback(base), content=body, timeout=10,
                              headers={"X-Hub-Signature": "sha384=" + hmac.new(gone.secret.encode(), body,
                                                                              hashlib.sha384).hexdigest()})
            assert late.status_code == 410
    finally:
        processor.stop()


def test_pushed_feed_is_polled_rarely_and_a_silent_hub_is_noticed(world):
    from pipeline.feeds.fetch import Fetcher
    from pipeline.feeds.polite import HostGate
    from pipeline.feeds.poll import poll_one

    settings, store = world
    now = datetime(2025, 9, 30, 12, tzinfo=UTC)
    sub = websub.new_subscription(FEED, FEED, "http://127.0.0.1:9/hub", now)
    websub.verify_intent(sub, {"hub.mode": "subscribe", "hub.topic": FEED, "hub.challenge": "c"}, now)
    websub.save(store, sub)
    with Fetcher(settings) as fetcher:
        out = poll_one(settings, FeedSpec(url=FEED), run_ts=now, store=store, fetcher=fetcher,
                       gate=HostGate(2, 0.0), known=set())
    assert out.status == "ok" and len(out.entries) == 11
    assert out.state.next_poll_at >= now + timedelta(seconds=settings.push_poll_interval)  # polled rarely
    (again,) = websub.load_all(store)
    assert again.missed == 11 and "did not push" in again.reason  # the hub missed what polling found


def test_asset_event_is_posted_with_the_batch_uri():
    """The REST calls ``newsflow push serve`` makes under Airflow, against a recorded API
    (the real deployment: tests/integration/test_airflow_local.py)."""
    from pipeline.asset_events import ARTICLES_URI, AirflowAssets, AssetEventError

    calls: list[tuple[str, str, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path, request.content))
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "jwt-for-tests-0123456789"})
        assert request.headers["authorization"] == "Bearer jwt-for-tests-0123456789"
        if request.url.path == "/api/v2/assets":
            return httpx.Response(200, json={"assets": [{"id": 7, "uri": ARTICLES_URI}], "total_entries": 1})
        return httpx.Response(200, json={"id": 1, "asset_id": 7})

    settings = Settings.load(airflow_api_url="http://airflow.test:8080", airflow_api_user="ops",
                             airflow_api_password="pw-never-logged-123")
    client = AirflowAssets(settings, httpx.Client(transport=httpx.MockTransport(handler)))
    assert client.post(ARTICLES_URI, {"batch_uri": "file:///lake/b1", "via": "websub"})["asset_id"] == 7
    assert [c[:2] for c in calls] == [("POST", "/auth/token"), ("GET", "/api/v2/assets"),
                                      ("POST", "/api/v2/assets/events")]
    assert b'"asset_id":7' in calls[-1][2].replace(b" ", b"") and b"file:///lake/b1" in calls[-1][2]
    assert "pw-never-logged-123" not in repr(settings)
    with pytest.raises(AssetEventError):
        AirflowAssets(Settings.load())
