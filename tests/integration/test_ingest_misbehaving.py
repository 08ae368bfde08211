"""The ingest stage against a loopback server that misbehaves on demand.

Every misbehaviour ends in its documented outcome (docs/ingestion.md, "Outcomes"), the
good feeds of the same run still load, state lands in the lake, the second run polls
conditionally and adaptively, repeated failures park a feed, the load stage mirrors feed
health into the warehouse, and replay rebuilds the articles without the network.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from pipeline.config import Settings
from pipeline.feeds.replay import replay_ingest
from pipeline.feeds.state import load_state
from pipeline.ingest import ingest
from pipeline.lake.articles import read_articles
from pipeline.lake.store import open_store
from pipeline.models import FeedSpec
from pipeline.warehouse.feed_health import load_feed_health

T0 = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
PARA = ("The harbour authority of the fictional town of Westmere said on Monday that the new "
        "breakwater will be finished before the winter storms, after two years of delays. ")
BODY = "<p>" + PARA * 6 + "</p>"


def _rss(title: str, n: int, extra: str = "", slug: str = "a") -> bytes:
    items = "".join(
        f"<item><title>{title} {i}</title><link>http://site-{slug}.test/news/{i}.html</link>"
        f"<guid>{slug}-{i}</guid><pubDate>Tue, 30 Sep 2025 10:0{i}:00 GMT</pubDate>"
        f"<description><![CDATA[{BODY} item {i}]]></description></item>"
        for i in range(n)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>http://site-{slug}.test/</link>{extra}{items}</channel></rss>").encode()


ARABIC_TITLE = "ميناء ويستمير يفتتح الرصيف الجديد"
WRONG_CHARSET = (
    '<?xml version="1.0" encoding="windows-1256"?><rss version="2.0"><channel><title>t</title>'
    f"<item><title>{ARABIC_TITLE}</title><link>http://site-w.test/1.html</link><guid>w1</guid>"
    f"<description>{'قال مسؤولو الميناء إن الرصيف سيفتح قبل الشتاء. ' * 20}</description></item>"
    "</channel></rss>"
).encode("cp1256")
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10) for i in range(1, 10))
          + b']><rss version="2.0"><channel><title>&lol9;</title></channel></rss>')
XXE = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       b'<rss version="2.0"><channel><title>&x;</title></channel></rss>')
JSONFEED = json.dumps({
    "version": "https://jsonfeed.org/version/1.1", "title": "Teasers",
    "items": [{"id": "t1", "url": "http://site-b.test/story.html", "title": "Breakwater opens",
               "summary": "A short teaser…", "date_published": "2025-09-30T09:00:00Z"}],
}).encode()
PAGE = (f"<html><head><title>Breakwater opens</title></head><body><article><h1>Breakwater opens</h1>"
        f"{BODY}</article></body></html>").encode()
BOMB = gzip.compress(b"\0" * 20_000_000, compresslevel=9)
HITS: Counter = Counter()


class Misbehaving(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", ctype: str = "application/rss+xml", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def do_GET(self) -> None:  # noqa: C901 - a routing table
        path = self.path
        HITS[path] += 1
        host = self.headers.get("Host", "")
        if path == "/good.xml":
            if self.headers.get("If-None-Match") == '"v1"':
                self._send(304, ETag='"v1"')
            else:
                self._send(200, _rss("Good", 3), ETag='"v1"')
        elif path == "/ttl.xml":
            self._send(200, _rss("Slow news", 1, "<ttl>180</ttl>", slug="t"))
        elif path == "/teasers.json":
            self._send(200, JSONFEED, "application/feed+json")
        elif path == "/story.html":
            self._send(200, PAGE, "text/html; charset=utf-8")
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass
        elif path == "/hang":
            time.sleep(2.5)
            self._send(200, _rss("late", 1))
        elif path == "/429":
            self._send(429, b"slow down", "text/plain", Retry_After="7200")
        elif path == "/500":
            self._send(500, b"boom", "text/plain")
        elif path == "/loop":
            self._send(302, Location="/loop")
        elif path == "/huge":
            self._send(200, b"<rss>" + b"x" * 300_000)
        elif path == "/bomb":
            self._send(200, BOMB, Content_Encoding="gzip")
        elif path == "/wrong-charset":
            self._send(200, WRONG_CHARSET, "application/rss+xml; charset=utf-8")
        elif path == "/laughs":
            self._send(200, LAUGHS)
        elif path == "/xxe":
            self._send(200, XXE)
        elif path == "/to-metadata":
            self._send(302, Location="http://169.254.169.254/latest/meta-data/")
        elif path == "/moved":
            self._send(301, Location=f"http://{host}/new-home.xml")
        elif path == "/new-home.xml":
            self._send(200, _rss("Moved", 1, slug="m"))
        elif path == "/gone":
            self._send(410, b"gone", "text/plain")
        else:
            self._send(404, b"nope", "text/plain")


CASES = {  # path -> (feed status, "stage:reason" or None)
    "/good.xml": ("ok", None),
    "/ttl.xml": ("ok", None),
    "/teasers.json": ("ok", None),
    "/wrong-charset": ("ok", None),
    "/moved": ("ok", None),
    "/drip": ("failed", "fetch:timeout"),
    "/hang": ("failed", "fetch:timeout"),
    "/429": ("failed", "fetch:http_429"),
    "/500": ("failed", "fetch:http_500"),
    "/loop": ("failed", "fetch:too_many_redirects"),
    "/huge": ("failed", "fetch:too_large"),
    "/bomb": ("failed", "fetch:too_large"),
    "/laughs": ("failed", "parse:xml_entities"),
    "/xxe": ("failed", "parse:xml_entities"),
    "/to-metadata": ("failed", "fetch:blocked_address"),
    "/gone": ("failed", "fetch:http_410"),
}


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # 16 feeds connect at once; the default backlog of 5 drops SYNs
    daemon_threads = True


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = Server(("127.0.0.1", 0), Misbehaving)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    root = tmp_path_factory.mktemp("misbehaving")
    settings = Settings.load(
        lake=str(root / "lake"), warehouse=f"duckdb:///{root / 'wh.duckdb'}",
        resolve={"*.test": f"127.0.0.1:{port}"},
        allow_private_networks=False, allow_networks="127.0.0.1/32",  # loopback only, by name
        fetch_timeout=0.5, max_feed_bytes=100_000, max_redirects=3,
        host_min_delay=0.0, park_after=2, fetch_concurrency=16,
    )
    # one host per feed (feed-N.test), so the per-host gate does not serialize the test
    feeds = [FeedSpec(url=f"http://feed-{i}.test{path}", name=path, language="en")
             for i, path in enumerate(CASES)]
    t = time.monotonic()
    first = ingest(settings, feeds, run_ts=T0)
    elapsed = time.monotonic() - t
    yield settings, feeds, first, elapsed, server
    server.shutdown()


def _by_path(report, feeds):
    reasons = {r.url: f"{r.stage}:{r.reason}" for r in report.rejects if r.stage in ("fetch", "parse")}
    return {f.name: reasons.get(f.url) for f in feeds}


def test_each_misbehaviour_ends_in_its_documented_outcome(world):
    settings, feeds, first, elapsed, _ = world
    assert _by_path(first, feeds) == {p: reason for p, (_s, reason) in CASES.items()}
    assert first.feeds_failed == sum(1 for s, _ in CASES.values() if s == "failed")
    assert first.feeds_ok == sum(1 for s, _ in CASES.values() if s == "ok")
    assert elapsed < 20, "a hanging or dripping server must not stall the run"


def test_the_good_feeds_of_the_same_run_still_load(world):
    settings, _, first, _, _ = world
    titles = {a.title for a in read_articles(open_store(settings))}
    assert {"Good 0", "Good 1", "Good 2", "Slow news 0", "Breakwater opens", "Moved 0"} <= titles
    assert ARABIC_TITLE in titles  # windows-1256 bytes labelled utf-8: recovered from the XML declaration
    assert first.pages_fetched == 1  # the JSON Feed teaser's page
    assert HITS["/story.html"] == 1


def test_state_and_adaptive_schedule_in_the_lake(world):
    settings, feeds, _, _, _ = world
    store = open_store(settings)
    url = {f.name: f.url for f in feeds}
    good = load_state(store, url["/good.xml"])
    assert good.etag == '"v1"' and good.consecutive_errors == 0 and good.next_poll_at == T0
    assert load_state(store, url["/ttl.xml"]).next_poll_at == T0 + timedelta(minutes=180)
    limited = load_state(store, url["/429"])
    assert limited.next_poll_at >= T0 + timedelta(seconds=7200)  # Retry-After honoured
    failing = load_state(store, url["/500"])
    wait = (failing.next_poll_at - T0).total_seconds()
    assert settings.backoff_base <= wait <= settings.backoff_base * (1 + settings.backoff_jitter)
    assert load_state(store, url["/gone"]).parked  # 410 Gone parks at once
    moved = load_state(store, url["/moved"])
    assert moved.current_url.endswith("/new-home.xml")  # 301 updates the stored feed URL


def test_second_run_is_conditional_backs_off_and_parks(world):
    settings, feeds, _, _, _ = world
    hits_before = dict(HITS)
    second = ingest(settings, feeds, run_ts=T0 + timedelta(hours=1))
    assert second.articles_new == 0
    assert second.feeds_not_modified == 1  # /good.xml answered 304: nothing parsed
    assert second.feeds_not_due == 2  # /ttl.xml (<ttl> 180) and /429 (Retry-After 7200)
    assert second.feeds_parked == 1  # /gone
    assert HITS["/429"] == hits_before["/429"] and HITS["/gone"] == hits_before["/gone"]
    assert HITS["/moved"] == hits_before["/moved"]  # fetched at its new home directly
    assert HITS["/new-home.xml"] == hits_before["/new-home.xml"] + 1
    parked_now = {f.name for f in feeds if f.url in second.newly_parked}
    assert {"/500", "/loop", "/laughs"} <= parked_now  # park_after=2 consecutive failures
    third = ingest(settings, feeds, run_ts=T0 + timedelta(hours=30))
    assert HITS["/500"] == hits_before["/500"] + 1  # parked: not retried forever
    assert third.feeds_parked >= len(parked_now) + 1


def test_load_stage_mirrors_feed_health_and_attempts(world):
    settings, feeds, _, _, _ = world
    report = load_feed_health(settings, run_ts=T0 + timedelta(hours=31))
    assert report.feeds == len(feeds)
    again = load_feed_health(settings, run_ts=T0 + timedelta(hours=32))
    assert again.attempt_rows == 0  # batches already loaded are not loaded twice
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    try:
        health = dict(con.execute("SELECT name, health FROM feeds").fetchall())
        reasons = dict(con.execute(
            "SELECT reason, count(*) FROM fetch_attempts WHERE outcome = 'error' GROUP BY 1").fetchall())
        pages = con.execute("SELECT count(*) FROM fetch_attempts WHERE kind = 'page'").fetchone()[0]
    finally:
        con.close()
    assert health["/gone"] == "parked" and health["/good.xml"] == "ok"
    assert {"timeout", "http_429", "xml_entities", "blocked_address", "too_large"} <= set(reasons)
    assert pages == 1


def test_replay_rebuilds_articles_without_the_network(world):
    settings, _, first, _, server = world
    server.shutdown()  # no network from here on
    store = open_store(settings)
    before = {a.article_id for a in read_articles(store)}
    report, bodies = replay_ingest(settings, since=T0 - timedelta(days=1), run_ts=T0 + timedelta(days=2))
    assert bodies >= 5
    assert report.feeds_failed == 2  # the two entity documents are refused again
    assert report.articles_new == first.articles_new
    assert {a.article_id for a in read_articles(store)} == before
