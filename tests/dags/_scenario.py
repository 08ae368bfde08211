"""The ingest -> asset -> process scenario both real-Airflow integration modules run.

Why shared: the LocalExecutor and the CeleryExecutor test must exercise the same thing
(trigger the ingest DAG through the REST API, then watch the asset-triggered process DAG
run by itself and fill the warehouse); only the deployment differs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.dags._helpers import REPO
from tests.dags._stack import AirflowStack

EXAMPLES = REPO / "examples"
LOGICAL_DATE = "2025-10-01T12:00:00Z"


def newsflow_env(root: Path, resolve: str, *, feeds_per_shard: int) -> dict[str, str]:
    return {
        "NEWSFLOW_LAKE": str(root / "lake"),
        "NEWSFLOW_WAREHOUSE": f"duckdb:///{root / 'warehouse.duckdb'}",
        "NEWSFLOW_FEEDS_FILE": str(EXAMPLES / "feeds.yaml"),
        "NEWSFLOW_RESOLVE": resolve,
        "NEWSFLOW_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSFLOW_FEEDS_PER_SHARD": str(feeds_per_shard),
    }


def run_ingest_then_process(stack: AirflowStack, timeout: float = 420) -> dict[str, Any]:
    """Trigger ``newsflow_ingest`` once; wait for it and for every process run it caused."""
    t0 = time.perf_counter()
    stack.wait_for(lambda: stack.dag_serialized("newsflow_ingest") and stack.dag_serialized("newsflow_process"),
                   120, "the DAG processor to serialize both DAGs")
    run = stack.api("POST", "/api/v2/dags/newsflow_ingest/dagRuns", {"logical_date": LOGICAL_DATE})
    run_id = run["dag_run_id"]

    def ingest_done():
        stack.check_alive()
        states = [s for r, s, _ in stack.dag_runs("newsflow_ingest") if r == run_id]
        return states and states[0] in ("success", "failed") and states[0]

    ingest_state = stack.wait_for(ingest_done, timeout, "the ingest run to finish", interval=0.5)
    t_ingest = time.perf_counter() - t0

    def process_done():
        stack.check_alive()
        runs = stack.dag_runs("newsflow_process")
        return runs and all(s in ("success", "failed") for _, s, _ in runs) and runs

    process_runs = stack.wait_for(process_done, timeout, "the asset-triggered process run(s) to finish")
    return {
        "ingest_run_id": run_id,
        "ingest_state": ingest_state,
        "ingest_tis": stack.task_instances("newsflow_ingest", run_id),
        "process_runs": process_runs,
        "process_tis": stack.task_instances("newsflow_process"),
        "timings": {"ingest_s": t_ingest, "ingest_to_process_done_s": time.perf_counter() - t0},
    }


def warehouse_articles(path: Path) -> tuple[int, int]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as conn:
        return (conn.execute("SELECT count(*) FROM articles").fetchone()[0],
                conn.execute("SELECT count(*) FROM related_articles").fetchone()[0])
