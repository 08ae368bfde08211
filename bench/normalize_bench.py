"""Articles normalized per second on one core, and Parquet write throughput vs plain pyarrow.

    .venv/bin/python bench/normalize_bench.py [--articles 2000]

Normalization = ``build_article`` on synthetic feed entries (English and Arabic bodies of
~2,500 characters: language id, attribution, dates, canonical URL, matching text, anchors).
Parquet = ``write_articles`` (schema-versioned, zstd, date partitions, manifest) to a local
store vs ``pyarrow.parquet.write_table`` of the same Arrow table in the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow.parquet as pq  # noqa: E402

from pipeline.config import Settings  # noqa: E402
from pipeline.lake import tables  # noqa: E402
from pipeline.lake.articles import write_articles  # noqa: E402
from pipeline.lake.schema import articles_to_table  # noqa: E402
from pipeline.lake.store import LocalStore  # noqa: E402
from pipeline.models import Entry  # noqa: E402
from pipeline.normalize import build_article  # noqa: E402

EN = ("On {d} March 2025 the ministry said 1,250 families in Basra received water after the plant "
      "run by Gulf Water Co. began a trial. Officials including Minister Ahmed Saleh said output "
      "would reach 50,000 cubic metres a day by June. ")
AR = ("قالت وزارة الموارد المائية في {d} آذار ٢٠٢٥ إن ١٬٢٥٠ أسرة في البصرة حصلت على المياه بعد بدء "
      "التشغيل التجريبي للمحطة، وأضاف الوزير أحمد صالح أن الإنتاج سيبلغ ٥٠ ألف متر مكعب يومياً. ")


def entries(n: int) -> list[Entry]:
    out = []
    for i in range(n):
        body = (EN if i % 2 else AR).format(d=i % 28 + 1) * 10
        if i % 5 == 0:
            body = "(Reuters) - " + body
        out.append(Entry(
            feed_url="https://bench.example/rss", guid=str(i),
            link=f"https://www.bench.example/news/{i}?utm_source=rss&fbclid=x{i}", title=f"Story {i}",
            content_html="".join(f"<p>{p}</p>" for p in body.split(". ") if p),
            published=datetime(2025, 3, 1, tzinfo=UTC) + timedelta(hours=i), language="en" if i % 2 else "ar",
        ))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=2000)
    n = ap.parse_args().articles
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    settings = Settings()
    items = entries(n)
    build_article(items[0], None, datetime(2025, 4, 1, tzinfo=UTC), settings)  # warm lingua
    t0 = time.perf_counter()
    arts = [build_article(e, None, datetime(2025, 4, 1, tzinfo=UTC), settings) for e in items]
    norm_s = time.perf_counter() - t0
    print(f"normalize: {n} articles in {norm_s:.2f} s = {n / norm_s:,.0f} articles/s (one core)")

    table = articles_to_table(arts)
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(tmp)
        t0 = time.perf_counter()
        write_articles(store, "20250401T000000Z-bench", arts)
        ours_s = time.perf_counter() - t0
        files = tables.files(store, "articles")
        ours_bytes = sum(f["size_bytes"] for f in files)
    buf = io.BytesIO()
    t0 = time.perf_counter()
    pq.write_table(table, buf)
    plain_s = time.perf_counter() - t0
    plain_bytes = buf.tell()
    print(f"lake write (Delta, {len(files)} file + commit): {ours_bytes / 1e6:.2f} MB in {ours_s:.3f} s "
          f"= {ours_bytes / ours_s / 1e6:.1f} MB/s, {n / ours_s:,.0f} rows/s")
    print(f"plain pq.write_table (default snappy, one file): {plain_bytes / 1e6:.2f} MB in {plain_s:.3f} s "
          f"= {plain_bytes / plain_s / 1e6:.1f} MB/s, {n / plain_s:,.0f} rows/s")
    print(f"ratio time newsflow/plain: {ours_s / plain_s:.2f}x; size newsflow/plain: {ours_bytes / plain_bytes:.2f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
