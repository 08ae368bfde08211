"""Real Airflow 3 on loopback (LocalExecutor, PostgreSQL metadata DB): trigger the ingest
DAG through the REST API, then see the asset-triggered process DAG run by itself and the
warehouse fill.  One deployment for the module; components run as separate processes
(API server, scheduler, DAG processor, triggerer) and are killed by process group."""

from __future__ import annotations

import time

import pytest
import yaml

from tests.conftest import need
from tests.dags._scenario import EXAMPLES, newsflow_env, run_ingest_then_process, warehouse_articles
from tests.dags._stack import AirflowStack, postgres_available

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    need(postgres_available(), "PostgreSQL at 127.0.0.1:5432 (user postgres) for the Airflow metadata DB")
    from pipeline.demo_server import DemoServer

    root = tmp_path_factory.mktemp("airflow-local")
    t0 = time.perf_counter()
    with DemoServer(EXAMPLES / "sites", port=0) as server:
        stack = AirflowStack(root, executor="LocalExecutor",
                             extra_env=newsflow_env(root, server.resolve_setting, feeds_per_shard=3))
        with stack:
            result = run_ingest_then_process(stack)
        result["timings"].update(stack.timings, total_s=time.perf_counter() - t0)
    print("\nairflow LocalExecutor timings:", {k: round(v, 1) for k, v in result["timings"].items()})
    return result, root


def test_ingest_run_maps_named_shards_in_the_pool(deployment) -> None:
    result, _ = deployment
    assert result["ingest_state"] == "success", result["ingest_tis"]
    shards = [ti for ti in result["ingest_tis"] if ti[0] == "ingest_shard"]
    assert len(shards) >= 2 and all(ti[2] == "success" for ti in shards)
    assert sorted(ti[4] for ti in shards) == [f"shard-{i}-of-{len(shards)}" for i in range(1, len(shards) + 1)]


def test_process_dag_ran_by_itself_and_filled_the_warehouse(deployment) -> None:
    result, root = deployment
    runs = result["process_runs"]
    assert runs and {rt for _, _, rt in runs} == {"asset_triggered"}  # nobody triggered it by hand
    assert {s for _, s, _ in runs} == {"success"}, result["process_tis"]
    done = {ti[0] for ti in result["process_tis"] if ti[2] == "success"}
    assert done == {"dedup", "load_warehouse", "refresh_related", "record_metrics"}
    expected = yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))
    articles, related = warehouse_articles(root / "warehouse.duckdb")
    assert articles == len(expected["articles"]) and related > 0
