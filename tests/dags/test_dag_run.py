"""End to end through Airflow: ``dag.test()`` the ingest DAG, then the process DAG, on the
sample outlets served by the loopback demo server, with SQLite metadata in a tmp
``AIRFLOW_HOME``; then check the warehouse against ``examples/expected.yaml``.

Airflow runs in a subprocess: its configuration and ORM are process-global and are read
at import time, so a fresh interpreter with a prepared environment is the reliable way to
point it at a throwaway metadata DB.  The process DAG is run with ``logical_date=None``,
as Airflow 3 does for asset-triggered runs, so the ``run_ts`` fallback is exercised.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.dags._helpers import REPO, airflow_env, run_python, skip_or_fail

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = REPO / "examples"

RUNNER = r"""
import json, os, sys, time
from datetime import UTC, datetime, timedelta

timings = {}
t = time.perf_counter()
from airflow.utils import db
db.upgradedb()  # what `airflow db migrate` does
from airflow.models.pool import Pool
Pool.create_or_update_pool("newsflow_fetch", 2, "newsflow fetching", include_deferred=False)
timings["db_migrate_s"] = time.perf_counter() - t

from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
assert not bag.import_errors, bag.import_errors

from airflow import settings
from airflow.models.asset import AssetEvent, AssetModel
from sqlalchemy import select

import duckdb

def snapshot():
    with duckdb.connect(os.environ["NF_TEST_WAREHOUSE"], read_only=True) as conn:
        return {
            "stories": sorted(conn.execute("SELECT canonical_url, story_id FROM articles").fetchall()),
            "related": conn.execute("SELECT count(*) FROM related_articles").fetchone()[0],
            "metrics": sorted(conn.execute(
                "SELECT dag_id, task_id, map_index, state, label, counts FROM run_metrics").fetchall()),
        }

# a reprocess interval that holds the raw feed bodies the ingest run fetches now
tomorrow = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
runs, snapshots = {}, {}
for key, dag_id, logical_date in (("newsflow_ingest", "newsflow_ingest", datetime(2025, 10, 1, 12, tzinfo=UTC)),
                                  ("newsflow_process", "newsflow_process", None),
                                  ("newsflow_reprocess", "newsflow_reprocess", tomorrow),
                                  ("newsflow_reprocess_again", "newsflow_reprocess", tomorrow)):
    dag = bag.dags[dag_id]
    for task in dag.tasks:
        task.retries = 0  # a failure must show now, not after exponential backoff
    t = time.perf_counter()
    if key == "newsflow_reprocess_again":
        with settings.Session() as session:  # dag.test() wants a fresh run for the same date
            from airflow.models.dagrun import DagRun
            session.query(DagRun).filter(DagRun.dag_id == dag_id).delete()
            session.commit()
    dr = dag.test(logical_date=logical_date)
    timings[key + "_s"] = time.perf_counter() - t
    with settings.Session() as session:
        tis = dr.get_task_instances(session=session)
        runs[key] = {
            "state": str(dr.state),
            "interval": [str(dr.data_interval_start), str(dr.data_interval_end)],
            "tis": sorted([ti.task_id, ti.map_index, str(ti.state), ti.rendered_map_index] for ti in tis),
        }
    if key != "newsflow_ingest":
        snapshots[key] = snapshot()

with settings.Session() as session:
    rows = session.execute(
        select(AssetModel.name, AssetModel.uri, AssetEvent.extra, AssetEvent.source_dag_id, AssetEvent.source_map_index)
        .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
    ).all()
events = [{"name": n, "uri": u, "extra": e, "dag": d, "map_index": m} for n, u, e, d, m in rows]
print(json.dumps({"runs": runs, "events": events, "timings": timings, "snapshots": snapshots}, default=str))
# the reprocess runs are asserted by their own test, which shows their task states
if any(runs[k]["state"] not in ("DagRunState.SUCCESS", "success") for k in ("newsflow_ingest", "newsflow_process")):
    sys.exit(3)  # make the harness show the task tracebacks
"""


@pytest.fixture(scope="module")
def airflow_run(tmp_path_factory):
    needed = [EXAMPLES / "expected.yaml", EXAMPLES / "feeds.yaml", EXAMPLES / "sites", REPO / "pipeline" / "demo_server.py"]
    missing = [str(p.relative_to(REPO)) for p in needed if not p.exists()]
    if missing:
        skip_or_fail(f"sample corpus / demo server not present: {missing}")
    from pipeline.demo_server import DemoServer

    root = tmp_path_factory.mktemp("airflow-e2e")
    lake, warehouse, decoy = root / "lake", root / "warehouse.duckdb", root / "decoy.duckdb"
    started = time.perf_counter()
    with DemoServer(EXAMPLES / "sites", port=0) as server:
        env = airflow_env(
            root / "airflow_home",
            NEWSFLOW_LAKE=str(lake),
            # the warehouse comes from an Airflow connection looked up at task run time;
            # the env value is a decoy that must stay untouched (the lake has no
            # connection, so the env fallback is exercised too)
            NEWSFLOW_WAREHOUSE=f"duckdb:///{decoy}",
            AIRFLOW_CONN_NEWSFLOW_WAREHOUSE=json.dumps({"conn_type": "generic", "host": f"duckdb:///{warehouse}"}),
            NEWSFLOW_FEEDS_FILE=str(EXAMPLES / "feeds.yaml"),
            NEWSFLOW_RESOLVE=server.resolve_setting,
            NEWSFLOW_ALLOW_PRIVATE_NETWORKS="1",
            NEWSFLOW_FEEDS_PER_SHARD="3",  # several shards, so mapping is really exercised
            NF_TEST_WAREHOUSE=str(warehouse),
        )
        result = run_python(RUNNER, env=env, timeout=600)
    result["timings"]["total_s"] = time.perf_counter() - started
    assert not decoy.exists(), "tasks ignored the newsflow_warehouse connection"
    print("\nairflow e2e timings:", {k: round(v, 1) for k, v in result["timings"].items()})
    return result, warehouse


@pytest.fixture(scope="module")
def expected() -> dict:
    return yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))


def test_both_dag_runs_succeed_with_named_shards(airflow_run) -> None:
    result, _ = airflow_run
    runs = result["runs"]
    assert runs["newsflow_ingest"]["state"] == "success", runs["newsflow_ingest"]
    assert runs["newsflow_process"]["state"] == "success", runs["newsflow_process"]
    shards = [ti for ti in runs["newsflow_ingest"]["tis"] if ti[0] == "ingest_shard"]
    assert len(shards) >= 2
    assert all(ti[2] == "success" for ti in runs["newsflow_ingest"]["tis"])
    names = sorted(ti[3] for ti in shards)
    assert names == [f"shard-{i}-of-{len(shards)}" for i in range(1, len(shards) + 1)]
    assert [ti[0] for ti in runs["newsflow_process"]["tis"]] == [
        "dedup", "load_warehouse", "record_metrics", "refresh_related"]
    assert all(ti[2] == "success" for ti in runs["newsflow_process"]["tis"])


def test_asset_events_carry_counts_not_data(airflow_run, expected) -> None:
    result, _ = airflow_run
    lake_events = [e for e in result["events"] if e["name"] == "newsflow-articles"]
    assert len(lake_events) == 1  # one per ingest run, from summarize, after every shard
    assert {e["dag"] for e in lake_events} == {"newsflow_ingest"}
    assert sum(e["extra"]["articles_new"] for e in lake_events) == len(expected["articles"])
    shards = [ti for ti in result["runs"]["newsflow_ingest"]["tis"] if ti[0] == "ingest_shard"]
    assert sorted(lake_events[0]["extra"]["per_shard"]) == sorted(ti[3] for ti in shards)
    assert sum(s["articles_new"] for s in lake_events[0]["extra"]["per_shard"].values()) == len(expected["articles"])
    feeds = yaml.safe_load((EXAMPLES / "feeds.yaml").read_text(encoding="utf-8"))["feeds"]
    feed_urls = {f["url"] for f in feeds}
    feed_rejects = [r for r in expected["rejects"] if r["url"] in feed_urls]
    assert sum(e["extra"]["feeds_failed"] for e in lake_events) == len(feed_rejects)
    assert sum(e["extra"]["feeds_ok"] for e in lake_events) == len(feeds) - len(feed_rejects)
    by_reason: Counter[str] = Counter()
    for e in lake_events:
        by_reason.update(e["extra"]["rejects_by_reason"])
    assert by_reason == Counter(f"{r['stage']}:{r['reason']}" for r in expected["rejects"])
    for e in lake_events:
        assert set(e["extra"]) >= {"batches", "articles_new", "feeds_ok", "rejects_by_reason", "per_shard"}
        assert e["extra"]["run_ts"] == "2025-10-01T12:00:00+00:00"  # the logical date, not the clock
        assert len(str(e["extra"])) < 3000  # counts and URIs, never articles
        # a batch is named by its Delta table's path and its id (issue 14): the table exists
        assert e["extra"]["batches"] and all("#batch_id=" in uri and Path(uri.split("#batch_id=")[0], "_delta_log").is_dir()
                                             for uri in e["extra"]["batches"])
    wh_events = [e for e in result["events"] if e["name"] == "newsflow-warehouse"]
    assert [e["dag"] for e in wh_events] == ["newsflow_process", "newsflow_reprocess", "newsflow_reprocess"]
    assert wh_events[0]["extra"]["rows"] > 0


def _stories(warehouse: Path) -> dict[str, str]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return dict(conn.execute("SELECT canonical_url, story_id FROM articles").fetchall())


def _partition(stories: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for url, story in stories.items():
        groups.setdefault(story, set()).add(url)
    return {frozenset(g) for g in groups.values()}


def test_warehouse_matches_the_answer_key(airflow_run, expected) -> None:
    import duckdb

    _, warehouse = airflow_run
    urls = _stories(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        related = conn.execute("SELECT count(*), count(DISTINCT article_id) FROM related_articles").fetchone()
        rejects = set(conn.execute("SELECT url, stage, reason FROM rejects").fetchall())
    # the reprocess runs (after the process run) replay from the raw zone, where a page that
    # answered 404 was never stored: they add that page's replay-time reject, by design
    rejects -= {r for r in rejects if r[2] == "page_not_in_raw_zone"}
    assert rejects == {(r["url"], r["stage"], r["reason"]) for r in expected["rejects"]}
    assert len(urls) == len(expected["articles"])
    assert set(urls) == {a["url"] for a in expected["articles"]}
    assert related[0] > 0 and related[1] > 0
    split = {}
    for story in expected["stories"]:
        members = [story["original"]] + [c["url"] for c in story["copies"]]
        story_ids = {urls[u] for u in members}
        if len(story_ids) != 1 or None in story_ids:
            split[story["key"]] = sorted(map(str, story_ids))
    merged = [p for p in expected["hard_negatives"] if urls[p["a"]] == urls[p["b"]]]
    assert not split, f"answer-key stories split across story_ids: {split}"
    assert not merged, f"independent reports merged into one story: {merged}"


def test_airflow_and_cli_paths_agree(airflow_run, tmp_path) -> None:
    """One code path, two front doors: the same corpus gives the same stories via run_pass."""
    from datetime import UTC, datetime

    from pipeline.config import Settings
    from pipeline.demo_server import DemoServer
    from pipeline.run import run_pass

    _, warehouse = airflow_run
    with DemoServer(EXAMPLES / "sites", port=0) as server:
        settings = Settings.load(
            lake=str(tmp_path / "lake"), warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}",
            resolve=server.resolve_setting, allow_private_networks=True,
        )
        run_pass(settings, str(EXAMPLES / "feeds.yaml"), run_ts=datetime(2025, 10, 1, 12, tzinfo=UTC))
    assert _partition(_stories(warehouse)) == _partition(_stories(tmp_path / "wh.duckdb"))


def test_reprocess_rebuilds_the_interval_idempotently(airflow_run) -> None:
    """Replaying the raw zone for the interval gives the warehouse it had, twice over."""
    result, _ = airflow_run
    runs, snaps = result["runs"], result["snapshots"]
    for key in ("newsflow_reprocess", "newsflow_reprocess_again"):
        assert runs[key]["state"] == "success", runs[key]
        assert [ti[0] for ti in runs[key]["tis"]] == [
            "dedup", "load_warehouse", "record_metrics", "refresh_related", "replay_raw"]
        assert all(ti[2] == "success" for ti in runs[key]["tis"]), runs[key]["tis"]
    start, end = runs["newsflow_reprocess"]["interval"]
    assert start.endswith("00:00:00+00:00") and end.endswith("00:00:00+00:00") and start < end
    after_process = _partition(dict(snaps["newsflow_process"]["stories"]))
    assert _partition(dict(snaps["newsflow_reprocess"]["stories"])) == after_process
    assert snaps["newsflow_reprocess_again"]["stories"] == snaps["newsflow_reprocess"]["stories"]
    assert snaps["newsflow_reprocess_again"]["related"] == snaps["newsflow_reprocess"]["related"] > 0


def test_run_metrics_reach_the_warehouse(airflow_run) -> None:
    """Task callbacks buffer a record per task try; record_metrics loads them (DuckDB here)."""
    result, _ = airflow_run
    rows = [tuple(r) for r in result["snapshots"]["newsflow_process"]["metrics"]]
    tasks = Counter((dag_id, task_id) for dag_id, task_id, *_ in rows)
    shards = [ti for ti in result["runs"]["newsflow_ingest"]["tis"] if ti[0] == "ingest_shard"]
    assert tasks == Counter({("newsflow_ingest", "plan_shards"): 1, ("newsflow_ingest", "ingest_shard"): len(shards),
                             ("newsflow_ingest", "summarize"): 1, ("newsflow_process", "dedup"): 1,
                             ("newsflow_process", "load_warehouse"): 1, ("newsflow_process", "refresh_related"): 1})
    assert {r[3] for r in rows} == {"success"}
    shard_rows = sorted(r for r in rows if r[1] == "ingest_shard")
    assert [r[4] for r in shard_rows] == sorted(ti[3] for ti in shards)  # the shard names
    counts = [json.loads(r[5]) if isinstance(r[5], str) else r[5] for r in shard_rows]
    assert all({"feeds_ok", "articles_new", "rejects_by_reason"} <= set(c) for c in counts)
    # the second reprocess run sees the first run's record_metrics row too: every try lands
    later = {(r[0], r[1]) for r in result["snapshots"]["newsflow_reprocess_again"]["metrics"]}
    assert ("newsflow_process", "record_metrics") in later and ("newsflow_reprocess", "replay_raw") in later
