"""Lake write throughput (issue 14 point 5): 10,000-row article batches committed to the
articles Delta table, beside a plain ``pyarrow.parquet.write_table`` of the same Arrow
rows to the same place (a local folder, then the S3-compatible test server, moto), commit
included.  Target: lake rows/s >= 0.8 of the plain write.

    python bench/lake_write_bench.py [--rows 10000] [--batches 5] [--runs 3] [--where local,s3] [--template-bodies]

Article bodies are twelve real news sentences each (NTREX-128 English and Arabic, from the
shared corpora), distinct per article.  ``--template-bodies`` gives the earlier stand-in,
one sentence template repeated: about 28 distinct bodies per batch, which the plain
writer's dictionary encoding stores once each, so it measures an archive no newsroom has.

Both sides write the same ``pa.Table`` (built once from ``Article`` objects); the lake side
is ``pipeline.lake.batches.write_batch`` (a new batch: one snappy Parquet file written by
pyarrow through the store, plus the ``batch_id``/``batch_meta``/``ingest_month`` columns,
then its Delta commit); the plain side is one ``pq.write_table`` (default snappy) per batch.  ``write_articles`` from the Article
objects (Arrow conversion included) is printed too.

Each of ``--runs`` (default 3) writes a fresh table; the median ratio decides the exit
code.  Every run also prints the first batch (it creates the table) apart from the median
of the later ones (appends).  ``deltalake`` is imported before timing, as ``pyarrow.parquet``
is for the plain side (the import took 20-40 ms, once per process).
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import deltalake  # noqa: E402, F401  both writers' libraries are loaded before the clock starts
import pyarrow.parquet as pq  # noqa: E402

from pipeline.config import Settings  # noqa: E402
from pipeline.lake.articles import write_articles  # noqa: E402
from pipeline.lake.batches import write_batch  # noqa: E402
from pipeline.lake.schema import articles_to_table  # noqa: E402
from pipeline.lake.store import LocalStore, open_store  # noqa: E402
from pipeline.models import Anchor, Article  # noqa: E402

NTREX = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "parallel" / "ntrex-dev"


@functools.cache
def _sentences() -> dict[str, list[str]]:
    """Real news sentences (NTREX-128 English and its Arabic translation), read from the
    shared corpora: article bodies of real text, not one template repeated (a repeated
    template let the plain writer's dictionary encoding shrink every body to an index)."""
    return {lang: (NTREX / f"newstest2019-{name}.txt").read_text(encoding="utf-8").splitlines()
            for lang, name in (("en", "src.eng"), ("ar", "ref.arb"))}


TEMPLATE = ("On {d} March 2025 the ministry said 1,250 families received water after the plant began a "
            "trial; output would reach 50,000 cubic metres a day by June. ")


def articles(n: int, offset: int, template: bool = False) -> list[Article]:
    out = []
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for j in range(n):
        i = offset + j
        lang = "en" if i % 2 else "ar"
        body = (TEMPLATE.format(d=i % 28 + 1) * 12 if template  # the old stand-in: ~28 distinct bodies
                else " ".join(random.Random(i).sample(_sentences()[lang], 12)))  # ~2,000 characters, distinct per article
        ts = base + timedelta(hours=7 * i)  # a backfill spanning years: publication days scatter
        out.append(Article(
            article_id=f"{i:016x}", url=f"https://www.bench.example/news/{i}", canonical_url=f"https://bench.example/news/{i}",
            feed_url="https://bench.example/rss", source_domain="bench.example", guid=str(i), title=f"Story {i}",
            summary=body[:200], body_text=body, language=lang, language_confidence=0.99,
            published_at=ts, published_at_source="feed", published_at_flag=None, fetched_at=ts,
            authors=["A. Writer"], anchors=[Anchor("number", "1250", 40), Anchor("year", "2025", 12)],
            content_hash=f"{i:064x}", section="World", site_name="Bench"))
    return out


def make_batches(rows: int, batches: int, template: bool = False) -> list[tuple[str, list[Article], object]]:
    """(batch id, Article objects, Arrow table) per batch, built once for every run."""
    tabs = []
    for b in range(batches):
        arts = articles(rows, b * rows, template)
        for a in arts:
            a.batch_id = f"20260101T{b:06d}Z-bench"
        tabs.append((f"20260101T{b:06d}Z-bench", arts, articles_to_table(arts)))
    return tabs


def run(store, plain_write, tabs: list, label: str) -> float:
    rows, batches = tabs[0][2].num_rows, len(tabs)
    ours, plain = [], []
    for i, (bid, _, table) in enumerate(tabs):  # interleaved, so load from elsewhere hits both sides alike
        t = time.perf_counter()
        write_batch(store, "articles", bid, table, meta={"articles": table.num_rows})
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        plain_write(table, i)
        plain.append(time.perf_counter() - t)
    t = time.perf_counter()
    for bid, arts, _ in tabs:  # the same batches again, from Article objects (a rerun: replaces them)
        write_articles(store, bid, arts)
    objs = time.perf_counter() - t
    n = rows * batches
    ratio = sum(plain) / sum(ours)
    later = (f"; later batches (appends) median {statistics.median(ours[1:]) * 1e3:.0f} ms vs "
             f"{statistics.median(plain[1:]) * 1e3:.0f} ms" if batches > 1 else "")
    print(f"{label}: lake write {n / sum(ours):,.0f} rows/s | plain pq.write_table {n / sum(plain):,.0f} rows/s | "
          f"ratio {ratio:.2f} (target >= 0.8) | write_articles from objects (rerun) {n / objs:,.0f} rows/s "
          f"[{batches} x {rows:,}-row batches]\n  per batch, lake vs plain: first (creates the table) "
          f"{ours[0] * 1e3:.0f} ms vs {plain[0] * 1e3:.0f} ms{later}")
    return ratio


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--where", default="local,s3")
    ap.add_argument("--template-bodies", action="store_true",
                    help="one repeated template body instead of real sentences (the figure before 2026-11-30)")
    ap.add_argument("--runs", type=int, default=3, help="fresh table per run; the median ratio decides")
    a = ap.parse_args()
    where = a.where.split(",")
    tabs = make_batches(a.rows, a.batches, a.template_bodies)
    medians = []
    if "local" in where:
        ratios = []
        for r in range(a.runs):
            with tempfile.TemporaryDirectory() as tmp:
                store = LocalStore(Path(tmp) / "lake")
                plain_dir = Path(tmp) / "plain"
                plain_dir.mkdir()
                ratios.append(run(store, lambda t, i, d=plain_dir: pq.write_table(t, d / f"b{i}.parquet"), tabs,
                                  f"local, run {r + 1}"))
        medians.append(summary("local", ratios))
    if "s3" in where:
        import logging

        import boto3
        from moto.server import ThreadedMotoServer
        from pyarrow import fs

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        srv.start()
        endpoint = f"http://127.0.0.1:{port}"
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="newsflow-bench")
        s3 = fs.S3FileSystem(endpoint_override=endpoint, scheme="http", region="us-east-1",
                             access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"])
        ratios = []
        for r in range(a.runs):
            store = open_store(Settings.load(lake=f"s3://newsflow-bench/lake{r}", s3_endpoint_url=endpoint))
            ratios.append(run(store, lambda t, i, r=r: pq.write_table(t, f"newsflow-bench/plain{r}/b{i}.parquet",
                                                                       filesystem=s3), tabs, f"s3 (moto), run {r + 1}"))
        srv.stop()
        medians.append(summary("s3 (moto)", ratios))
    return 0 if all(m >= 0.8 for m in medians) else 1


def summary(label: str, ratios: list[float]) -> float:
    m = statistics.median(ratios)
    print(f"{label}: median ratio over {len(ratios)} runs {m:.2f} (runs {', '.join(f'{x:.2f}' for x in ratios)}; "
          f"target >= 0.8: {'met' if m >= 0.8 else 'NOT met'}) | load average {os.getloadavg()[0]:.2f}")
    return m

if __name__ == "__main__":
    sys.exit(main())
