"""Feed polling throughput: newsflow's fetch+parse stage vs ``feedparser.parse(url)`` in a loop.

A loopback server serves N feeds of 20 items each, every response delayed 50-200 ms
(deterministic per feed).  Two measurements in the same run, each in a fresh subprocess so
its peak RSS is its own:

* **newsflow**: ``pipeline.feeds.poll.poll_feeds`` — guarded fetch, raw zone (gzip,
  content-addressed, local folder), parse, per-feed lake state, fetch-attempt rows — with
  ``fetch_concurrency`` threads, at most ``fetch_per_host`` requests per host and feeds
  spread over 200 host names mapped to loopback (``NEWSFLOW_RESOLVE``);
* **baseline**: ``feedparser.parse(url)`` one feed after another, over the same N feeds
  in the same run (about 2 minutes for 1,000).  ``--baseline-feeds M`` measures a subset
  instead, and the output then says the baseline is an extrapolation.

Prints feeds/s, wall time, entries parsed and peak RSS of each, and the speed ratio.
Usage: ``python bench/feeds_bench.py [--feeds 1000] [--concurrency 32]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ITEMS = 20
HOSTS = 200
TEXT = ("Synthetic benchmark paragraph about a fictional harbour, its ferries and the weather "
        "over the bay, written for newsflow's feed benchmark. ") * 6


def delay_for(i: int) -> float:
    return 0.050 + (int(hashlib.sha256(str(i).encode()).hexdigest()[:8], 16) % 151) / 1000.0


def feed_body(i: int) -> bytes:
    items = "".join(
        f"<item><title>Feed {i} item {j}</title><link>http://h{i % HOSTS}.bench.test/{i}/{j}.html</link>"
        f"<guid>f{i}-{j}</guid><pubDate>Tue, 30 Sep 2025 10:{j:02d}:00 GMT</pubDate>"
        f"<description>{TEXT}</description></item>"
        for j in range(ITEMS)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {i}</title>'
            f"<link>http://h{i % HOSTS}.bench.test/</link>{items}</channel></rss>").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        try:
            i = int(self.path.rsplit("/", 1)[1].split(".")[0])
        except ValueError:
            self.send_error(404)
            return
        time.sleep(delay_for(i))
        body = feed_body(i)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    request_queue_size = 512
    daemon_threads = True


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_ours(port: int, n: int, concurrency: int) -> dict:
    from pipeline.config import Settings
    from pipeline.feeds.fetch import Fetcher
    from pipeline.feeds.polite import HostGate
    from pipeline.feeds.poll import poll_feeds
    from pipeline.lake.store import LocalStore
    from pipeline.models import FeedSpec

    settings = Settings.load(
        resolve={"*.bench.test": f"127.0.0.1:{port}"}, allow_private_networks=True,
        fetch_concurrency=concurrency, fetch_per_host=2, host_min_delay=0.0,
    )
    feeds = [FeedSpec(url=f"http://h{i % HOSTS}.bench.test/feed/{i}.xml") for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp, Fetcher(settings) as fetcher:
        store = LocalStore(tmp)
        t = time.perf_counter()
        result = poll_feeds(settings, feeds, run_ts=datetime(2025, 10, 1, tzinfo=UTC), store=store,
                            fetcher=fetcher, gate=HostGate(settings.fetch_per_host, settings.host_min_delay))
        result.save_states(store)  # measured as before: state is part of polling's cost
        wall = time.perf_counter() - t
    return {"feeds": n, "ok": result.count("ok"), "entries": len(result.entries), "wall_s": wall,
            "peak_rss_mb": peak_rss_mb()}


def run_baseline(port: int, n: int) -> dict:
    import feedparser

    t = time.perf_counter()
    entries = ok = 0
    for i in range(n):
        d = feedparser.parse(f"http://127.0.0.1:{port}/feed/{i}.xml")
        ok += bool(d.entries)
        entries += len(d.entries)
    wall = time.perf_counter() - t
    return {"feeds": n, "ok": ok, "entries": entries, "wall_s": wall, "peak_rss_mb": peak_rss_mb()}


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--feeds", type=int, default=1000)
    p.add_argument("--baseline-feeds", type=int, default=None,
                   help="measure the baseline on this many feeds only (default: all of --feeds)")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--child", choices=("ours", "baseline"))
    p.add_argument("--port", type=int)
    a = p.parse_args()
    if a.child == "ours":
        print(json.dumps(run_ours(a.port, a.feeds, a.concurrency)))
        return 0
    if a.child == "baseline":
        print(json.dumps(run_baseline(a.port, a.feeds)))
        return 0
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    mean_delay = sum(delay_for(i) for i in range(a.feeds)) / a.feeds
    print(f"{a.feeds} feeds x {ITEMS} items, {len(feed_body(0)) // 1024} KB each, injected latency "
          f"50-200 ms (mean {mean_delay * 1000:.0f} ms), {HOSTS} host names on loopback; "
          f"load average {os.getloadavg()[0]:.1f}")
    ours = _child(["--child", "ours", "--port", str(port), "--feeds", str(a.feeds),
                   "--concurrency", str(a.concurrency)])
    base_n = a.baseline_feeds or a.feeds
    base = _child(["--child", "baseline", "--port", str(port), "--feeds", str(base_n)])
    server.shutdown()
    base_rate = base["feeds"] / base["wall_s"]
    ours_rate = ours["feeds"] / ours["wall_s"]
    print(f"newsflow poll_feeds (concurrency {a.concurrency}, <=2 per host): {ours['feeds']} feeds "
          f"({ours['ok']} ok, {ours['entries']} entries) in {ours['wall_s']:.1f} s = {ours_rate:.1f} feeds/s, "
          f"peak RSS {ours['peak_rss_mb']:.0f} MB")
    subset = base_n < a.feeds
    print(f"baseline feedparser.parse(url) sequential, same run: {base['feeds']} feeds ({base['entries']} entries) "
          f"in {base['wall_s']:.1f} s = {base_rate:.1f} feeds/s, peak RSS {base['peak_rss_mb']:.0f} MB"
          + (f"; SUBSET of {a.feeds}: the baseline's {a.feeds} feeds would take {a.feeds / base_rate:.0f} s "
             "(extrapolated, not measured)" if subset else ""))
    print(f"speed-up: {ours_rate / base_rate:.1f}x" + (" (against the extrapolated baseline)" if subset else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
