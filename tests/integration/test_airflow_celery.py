"""Real Airflow 3 with CeleryExecutor: two workers (distinct ``--celery-hostname``), Redis
broker at 127.0.0.1:6379 (a dedicated DB number), PostgreSQL metadata DB and Celery
result backend.  The same scenario as the LocalExecutor test, plus: the mapped fetch
shards are spread over both workers (each task instance's ``hostname``)."""

from __future__ import annotations

import random
import time

import pytest
import yaml

from tests.conftest import need
from tests.dags._scenario import EXAMPLES, newsflow_env, run_ingest_then_process, warehouse_articles
from tests.dags._stack import AirflowStack, postgres_available, redis_available

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WORKERS = ("nf-worker-a", "nf-worker-b")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    need(postgres_available(), "PostgreSQL at 127.0.0.1:5432 (user postgres) for the Airflow metadata DB")
    need(redis_available(), "Redis at 127.0.0.1:6379 as the Celery broker")
    try:
        import airflow.providers.celery  # noqa: F401
    except ImportError:
        need(False, "apache-airflow-providers-celery (pip install -e '.[airflow]')")
    from pipeline.demo_server import DemoServer

    root = tmp_path_factory.mktemp("airflow-celery")
    t0 = time.perf_counter()
    with DemoServer(EXAMPLES / "sites", port=0) as server:
        env = newsflow_env(root, server.resolve_setting, feeds_per_shard=1)  # one shard per outlet
        env["AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER"] = "1"
        stack = AirflowStack(root, executor="CeleryExecutor", redis_db=random.randint(5, 15), extra_env=env)
        try:
            stack.start(workers=WORKERS)
            stack.wait_for(lambda: _workers_ready(stack), 120, "both Celery workers to be ready")
            result = run_ingest_then_process(stack)
        finally:
            stack.stop()
        result["timings"].update(stack.timings, total_s=time.perf_counter() - t0)
    print("\nairflow CeleryExecutor timings:", {k: round(v, 1) for k, v in result["timings"].items()})
    return result, root


def _workers_ready(stack: AirflowStack) -> bool:
    stack.check_alive()
    logs = [(stack.logs / f"worker-{w}.log").read_text(errors="replace") for w in WORKERS]
    return all(" ready." in text for text in logs)


def test_mapped_fetch_tasks_spread_over_both_workers(deployment) -> None:
    result, _ = deployment
    assert result["ingest_state"] == "success", result["ingest_tis"]
    shards = [ti for ti in result["ingest_tis"] if ti[0] == "ingest_shard"]
    assert len(shards) >= 4 and all(ti[2] == "success" for ti in shards)
    hosts = {ti[3] for ti in shards}
    assert hosts == set(WORKERS), f"shards ran on {sorted(hosts)}"


def test_process_dag_ran_on_the_workers_and_filled_the_warehouse(deployment) -> None:
    result, root = deployment
    runs = result["process_runs"]
    assert runs and {rt for _, _, rt in runs} == {"asset_triggered"}
    assert {s for _, s, _ in runs} == {"success"}, result["process_tis"]
    assert {ti[3] for ti in result["process_tis"]} <= set(WORKERS)
    expected = yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))
    articles, related = warehouse_articles(root / "warehouse.duckdb")
    assert articles == len(expected["articles"]) and related > 0
