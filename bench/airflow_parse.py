"""Parse cost of the DAG files, as the DAG processor pays it, and of a whole DagBag.

Why: the DAG processor re-parses every file every ``min_file_process_interval`` on every
deployment; a file that imports heavy libraries or does I/O at the top level costs every
DAG.  Each file is parsed N times, each time in a fresh interpreter (so module caches do
not hide imports), after ``import airflow.sdk`` (the framework cost every DAG file pays,
reported separately as the baseline).  Prints median / p95 / max per file, the modules each
file adds, and peak RSS.

    .venv/bin/python bench/airflow_parse.py [--runs 7] [--with-sqs]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = r"""
import json, resource, runpy, sys, time
t0 = time.perf_counter()
import airflow.sdk
from airflow.sdk import dag, task, Asset  # noqa: F401  (what every DAG file imports)
t1 = time.perf_counter()
before = set(sys.modules)
runpy.run_path(sys.argv[1], run_name="bench_parse")
t2 = time.perf_counter()
print(json.dumps({"framework_s": t1 - t0, "parse_s": t2 - t1, "new_modules": len(set(sys.modules) - before),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "NEWSFLOW_"))}
    env.update({"AIRFLOW_HOME": tempfile.mkdtemp(prefix="nf-bench-airflow-"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])})
    env.update(extra)
    return env


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--with-sqs", action="store_true", help="also parse newsflow_process with the SQS AssetWatcher on")
    args = ap.parse_args()
    cases = [(p.name, p, {}) for p in sorted((REPO / "dags").glob("*.py")) if not p.name.startswith("_")]
    if args.with_sqs:
        cases.append(("newsflow_process.py +SQS watcher", REPO / "dags" / "newsflow_process.py",
                      {"NEWSFLOW_SQS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q"}))
    print(f"DAG file parse time, {args.runs} fresh interpreters each (machine: {os.cpu_count()} cores, shared)")
    print(f"{'file':36} {'median ms':>9} {'p95 ms':>7} {'max ms':>7} {'modules':>7} {'rss MB':>7}   baseline: import airflow.sdk")
    for name, path, extra in cases:
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", PROBE, str(path)], env=_env(extra), cwd=REPO,
                                 capture_output=True, text=True, check=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        parse = [r["parse_s"] * 1000 for r in runs]
        base = statistics.median(r["framework_s"] * 1000 for r in runs)
        print(f"{name:36} {statistics.median(parse):9.0f} {_pct(parse, 0.95):7.0f} {max(parse):7.0f} "
              f"{runs[0]['new_modules']:7d} {max(r['rss_mb'] for r in runs):7.0f}   {base:.0f} ms")
    bag = subprocess.run([sys.executable, "-c",
                          "import json,time,os;t=time.perf_counter();from airflow.dag_processing.dagbag import DagBag;"
                          "t1=time.perf_counter();b=DagBag(dag_folder=os.environ['AIRFLOW__CORE__DAGS_FOLDER']);"
                          "print(json.dumps({'import_s':t1-t,'bag_s':time.perf_counter()-t1,'dags':len(b.dags),"
                          "'errors':len(b.import_errors)}))"], env=_env({}), cwd=REPO, capture_output=True, text=True, check=True)
    r = json.loads(bag.stdout.strip().splitlines()[-1])
    print(f"whole DagBag: {r['dags']} DAGs, {r['errors']} import errors, {r['bag_s'] * 1000:.0f} ms "
          f"(after {r['import_s'] * 1000:.0f} ms of Airflow imports)")


if __name__ == "__main__":
    main()
