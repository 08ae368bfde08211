"""WARC backfill throughput, beside bare fastwarc and plain trafilatura in the same run.

    .venv/bin/python bench/warc_bench.py [--copies 20] [--workers N]
    make bench-warc

The WARC.gz is built here with warcio's writer from the real pages of
``../shared/corpora/html`` (fundus and readability ground-truth pages, ~170 KB of HTML
each), ``--copies`` times under distinct URLs, one gzip member per record as in CC-NEWS;
nothing is copied into the repository.  Printed, each beside its baseline:

* reading: MB/s and records/s of ``pipeline.feeds.warc.read_pages`` (filters included)
  against bare ``fastwarc.ArchiveIterator`` iteration (target >= 0.8 of it);
* the extraction path: HTML pages/s of ``pipeline.backfill.backfill`` (read, filter,
  extract on every core, normalize, lake write; dedup excluded) against plain
  ``trafilatura.extract`` over the same pages on one core (target >= 40 pages/s on 2 cores),
  with the CPU time per page of the workers and of the parent: on a shared machine it
  moves less than the rate, and the cores divided by it bound the rate an idle machine gets;
* peak memory of the extraction path at two file sizes, both several batches of 100
  (flat in the file size: a batch's pages are the only bodies held).
"""

from __future__ import annotations

import argparse
import glob
import io
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(path: Path, copies: int) -> tuple[int, int]:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from tests.conftest import CORPORA

    pages = sorted(glob.glob(str(CORPORA / "html" / "**" / "*.html"), recursive=True))
    bodies = [Path(p).read_bytes() for p in pages]
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for c in range(copies):
            for i, body in enumerate(bodies):
                http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
                w.write_record(w.create_warc_record(f"https://outlet{i % 9}.example/{c}/{i}.html", "response",
                                                    payload=io.BytesIO(body), http_headers=http))
    return len(bodies) * copies, path.stat().st_size


def bare_fastwarc(path: Path) -> tuple[float, int, int]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    t = time.perf_counter()
    n = size = 0
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh, record_types=WarcRecordType.any_type, parse_http=True):
            size += len(rec.reader.read())
            n += 1
    return time.perf_counter() - t, n, size


def ours(path: Path) -> tuple[float, int]:
    from pipeline.feeds.warc import ReadStats, WarcFilter, open_source, read_pages

    t = time.perf_counter()
    n = sum(1 for _ in read_pages(lambda at: open_source(str(path), at), WarcFilter(), ReadStats()))
    return time.perf_counter() - t, n


def plain_trafilatura(path: Path, limit: int) -> float:
    import trafilatura
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    bodies = []
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True):
            bodies.append(rec.reader.read())
            if len(bodies) >= limit:
                break
    t = time.perf_counter()
    for b in bodies:
        trafilatura.extract(b.decode("utf-8", "replace"))
    return len(bodies) / (time.perf_counter() - t)


def extraction_path(path: Path, workers: int | None, passes: int = 2) -> dict:
    """In a fresh process, so peak RSS is the path's own (children included)."""
    code = f"""
import json, resource, sys, tempfile, time
sys.path.insert(0, {str(ROOT)!r})
from datetime import UTC, datetime
from pipeline.backfill import backfill
from pipeline.config import Settings
from pipeline.feeds.warc import WarcFilter
from pipeline.lake.store import open_store
tmp = tempfile.mkdtemp()
s = Settings.load(lake=tmp + "/lake", warehouse="duckdb:///" + tmp + "/wh.duckdb")
t = time.perf_counter()
(r,) = backfill(s, open_store(s), [{str(path)!r}], WarcFilter(), run_ts=datetime(2025, 1, 1, tzinfo=UTC),
                workers={workers!r}, batch_size=100, passes={passes!r})
dt = time.perf_counter() - t
own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"seconds": dt, "pages": r.pages, "articles": r.articles, "rss_mb": own.ru_maxrss / 1024,
                  "child_rss_mb": kids.ru_maxrss / 1024,
                  "parent_cpu_ms": (own.ru_utime + own.ru_stime) * 1000 / r.pages,
                  "worker_cpu_ms": (kids.ru_utime + kids.ru_stime) * 1000 / r.pages}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=20, help="copies of the real pages in the big file (default 20)")
    ap.add_argument("--workers", type=int, default=None, help="extraction processes (default: every core)")
    args = ap.parse_args()
    from tests.conftest import CORPORA

    if not (CORPORA / "html").is_dir():
        print(f"SKIPPED: no real pages at {CORPORA / 'html'}")
        return 0
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.warc.gz", Path(tmp) / "small.warc.gz"
        n_big, size_big = build(big, args.copies)
        n_small, _ = build(small, max(1, args.copies // 4))
        mb = size_big / 1e6
        bare_fastwarc(big)  # warm the page cache: both readers then read from memory
        dt_bare, recs, payload = min(bare_fastwarc(big) for _ in range(2))
        dt_ours, pages = min(ours(big) for _ in range(2))
        print(f"file: {n_big} HTML responses, {mb:.1f} MB compressed, {payload / 1e6:.0f} MB of HTML")
        print(f"read, bare fastwarc:   {mb / dt_bare:7.1f} MB/s  {recs / dt_bare:8.0f} records/s")
        print(f"read, newsflow reader: {mb / dt_ours:7.1f} MB/s  {pages / dt_ours:8.0f} records/s  "
              f"= {dt_bare / dt_ours:.2f} of bare fastwarc (target >= 0.8)")
        tf = plain_trafilatura(big, 200)
        path_big = extraction_path(big, args.workers)
        path_small = extraction_path(small, args.workers)
        one_pass = extraction_path(big, args.workers, passes=1)
        print(f"plain trafilatura.extract, one core: {tf:6.1f} pages/s")
        cores = min(args.workers or os.cpu_count() or 1, os.cpu_count() or 1)
        for label, r in (("2 passes, the default", path_big), ("--passes 1", one_pass)):
            rate = r["pages"] / r["seconds"]
            print(f"extraction path, {label} (read, filter, extract on {args.workers or os.cpu_count()} processes, "
                  f"normalize, lake write): {rate:6.1f} pages/s = {rate / tf:.2f}x plain trafilatura's one-core "
                  f"rate (target >= 40 pages/s); {r['articles']} articles")
            # CPU time moves less with the machine's load than the rate: the cores' ceiling
            print(f"  CPU per page: workers {r['worker_cpu_ms']:.1f} ms, parent {r['parent_cpu_ms']:.1f} ms "
                  f"(imports and start-up included) = at most {cores * 1000 / (r['worker_cpu_ms'] + r['parent_cpu_ms']):.1f} "
                  f"pages/s on {cores} idle cores")
        print(f"peak RSS: {n_small} pages: parent {path_small['rss_mb']:.0f} MB, worker {path_small['child_rss_mb']:.0f} MB; "
              f"{n_big} pages: parent {path_big['rss_mb']:.0f} MB, worker {path_big['child_rss_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
