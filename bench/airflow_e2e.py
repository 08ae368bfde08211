"""End-to-end time of a real local Airflow 3 deployment on the sample corpus.

What it measures: a LocalExecutor deployment (PostgreSQL metadata DB at 127.0.0.1:5432,
API server, scheduler, DAG processor, triggerer as separate processes) is started with the
repository's DAGs; ``newsflow_ingest`` is triggered through the REST API; the clock stops
when every asset-triggered ``newsflow_process`` run has finished.  Prints the start-up time,
the ingest run, ingest-to-process-done and the total.  The harness is the one the
integration tests use (``tests/dags/_stack.py``, ``tests/dags/_scenario.py``), so the bench
and the tests run the same deployment; the corpus is ``examples/`` served on loopback.

    .venv/bin/python bench/airflow_e2e.py            # part of `make bench-airflow`
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    from pipeline.demo_server import DemoServer
    from tests.dags._scenario import EXAMPLES, newsflow_env, run_ingest_then_process
    from tests.dags._stack import AirflowStack, postgres_available

    if not postgres_available():
        print("airflow end-to-end: SKIPPED (needs PostgreSQL at 127.0.0.1:5432, user postgres, "
              "for the metadata DB)")
        return 1
    with tempfile.TemporaryDirectory(prefix="newsflow-airflow-e2e-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        with DemoServer(EXAMPLES / "sites", port=0) as server:
            stack = AirflowStack(root, executor="LocalExecutor",
                                 extra_env=newsflow_env(root, server.resolve_setting, feeds_per_shard=3))
            with stack:
                result = run_ingest_then_process(stack)
        total = time.perf_counter() - t0
    t = {**stack.timings, **result["timings"]}
    states = sorted({s for _, s, _ in result["process_runs"]})
    print(f"airflow end-to-end, LocalExecutor, sample corpus (7 feeds, 3 per shard): ingest run "
          f"{result['ingest_state']}, process runs {states}")
    print(f"  db migrate {t.get('db_migrate_s', 0):.1f} s, components up {t.get('start_s', 0):.1f} s, "
          f"ingest run {t['ingest_s']:.1f} s, trigger to last process run done {t['ingest_to_process_done_s']:.1f} s, "
          f"total {total:.1f} s")
    return 0 if result["ingest_state"] == "success" and states == ["success"] else 1


if __name__ == "__main__":
    sys.exit(main())
