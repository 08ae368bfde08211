"""Issue 19 through real Airflow (``dag.test()``, SQLite metadata, as ``test_dag_run``): the
ingest DAG stores a planted article and publishes its asset event; the takedown is
requested before the asset-triggered process DAG runs (a run in flight); a later ingest
run sees the feed again.  The article must end gone from the lake and the warehouse, and
the later run must count it as a reject instead of storing it.

Short on purpose: the interleavings inside stages are in
``tests/integration/test_takedown_inflight.py`` (the same stage functions the tasks call).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dags._helpers import REPO, airflow_env, run_python, skip_or_fail

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUNNER = r"""
import json, os
from datetime import UTC, datetime

from airflow.utils import db
db.upgradedb()
from airflow.models.pool import Pool
Pool.create_or_update_pool("newsflow_fetch", 2, "newsflow fetching", include_deferred=False)
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
assert not bag.import_errors, bag.import_errors

def run(dag_id, logical_date):
    dag = bag.dags[dag_id]
    for task in dag.tasks:
        task.retries = 0
    return str(dag.test(logical_date=logical_date).state)

states = {"ingest_1": run("newsflow_ingest", datetime(2025, 10, 1, 12, tzinfo=UTC))}
# the process run the asset event asked for has not run yet: the takedown lands now
from pipeline.config import Settings
from pipeline.takedown import take_down
take_down(Settings.load(), os.environ["NF_PLANTED_URL"], reason="court order (airflow test)", by="ops",
          requested_at=datetime(2025, 10, 1, 12, 30, tzinfo=UTC))
states["process_1"] = run("newsflow_process", None)
# the outlet touches its feed: the next ingest run fetches and parses it again
feed = os.environ["NF_FEED_FILE"]
text = open(feed, encoding="utf-8").read()
open(feed, "w", encoding="utf-8").write(text.replace("<ttl>15</ttl>", "<ttl>16</ttl>"))
states["ingest_2"] = run("newsflow_ingest", datetime(2025, 10, 1, 18, tzinfo=UTC))
states["process_2"] = run("newsflow_process", None)
print(json.dumps({"states": states}))
"""


def test_a_takedown_between_dag_runs_ends_with_the_article_gone(tmp_path) -> None:
    from pipeline.demo_server import DemoServer
    from pipeline.extract.urls import article_id_for, canonicalize_url
    from tests.integration import _revise as rv
    from tests.integration.test_takedown import lake_hits, warehouse_hits

    if not (REPO / "examples" / "sites").is_dir():
        skip_or_fail("sample corpus not present")
    sites = rv.copy_sites(tmp_path / "sites")
    rv.plant(sites)
    lake, warehouse = tmp_path / "lake", tmp_path / "warehouse.duckdb"
    with DemoServer(sites, port=0) as server:
        env = airflow_env(tmp_path / "airflow_home", NEWSFLOW_LAKE=str(lake),
                          NEWSFLOW_WAREHOUSE=f"duckdb:///{warehouse}",
                          NEWSFLOW_FEEDS_FILE=str(REPO / "examples" / "feeds.yaml"),
                          NEWSFLOW_RESOLVE=server.resolve_setting, NEWSFLOW_ALLOW_PRIVATE_NETWORKS="1",
                          NEWSFLOW_FEEDS_PER_SHARD="3", NF_PLANTED_URL=rv.PLANTED_URL,
                          NF_FEED_FILE=str(sites / rv.FEED))
        result = run_python(RUNNER, env=env, timeout=600)
    assert set(result["states"].values()) <= {"success", "DagRunState.SUCCESS"}, result
    from pipeline.config import Settings

    settings = Settings.load(lake=str(lake), warehouse=f"duckdb:///{warehouse}")
    assert lake_hits(settings) == []
    assert warehouse_hits(settings) == []
    import duckdb

    planted = article_id_for(canonicalize_url(rv.PLANTED_URL))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ids = {r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()}
        rejects = con.execute("SELECT stage, reason FROM rejects WHERE url = ?", [rv.PLANTED_URL]).fetchall()
        audit = con.execute("SELECT article_id, requested_by FROM takedowns").fetchall()
    assert planted not in ids and len(ids) == 61
    assert rejects == [("feed", "taken_down")]
    assert audit == [(planted, "ops")]
    assert json.loads(Path(lake, "state", "tombstones", f"{planted}.json").read_text())["purged"]
