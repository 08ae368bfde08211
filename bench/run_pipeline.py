"""Benchmark one full pass over the sample corpus: wall time per stage, throughput, peak RSS.

    .venv/bin/python bench/run_pipeline.py [--repeat 3]

Figures, not assertions: stage timings vary with the machine.  The baseline in the same run
is the first (cold) pass against the later (warm, nothing new) passes.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline import stages  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.demo_server import DemoServer  # noqa: E402
from pipeline.feeds.registry import load_feeds  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    feeds = load_feeds(REPO / "examples" / "feeds.yaml")
    with tempfile.TemporaryDirectory() as tmp, DemoServer(REPO / "examples" / "sites", port=0) as srv:
        settings = Settings.load(lake=f"{tmp}/lake", warehouse=f"duckdb:///{tmp}/wh.duckdb",
                                 resolve=srv.resolve_setting, allow_private_networks=True)
        run_ts = datetime(2025, 9, 30, tzinfo=UTC)
        for n in range(args.repeat):
            timings = {}
            t = time.perf_counter()
            report = ingest(settings, feeds, run_ts=run_ts + timedelta(hours=n))
            timings["ingest"] = time.perf_counter() - t
            for name, fn in (("dedup", lambda: stages.dedup(settings)),
                             ("load", lambda: stages.load_warehouse(settings, run_ts=run_ts)),
                             ("related", lambda: stages.refresh_related(settings))):
                t = time.perf_counter()
                fn()
                timings[name] = time.perf_counter() - t
            total = sum(timings.values())
            label = "cold" if n == 0 else "warm"
            print(f"pass {n + 1} ({label}): {report.articles_new} new articles, {report.pages_fetched} pages, "
                  + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()) + f", total {total:.2f}s")
            if report.articles_new:
                print(f"  ingest throughput: {report.articles_new / timings['ingest']:.1f} articles/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
