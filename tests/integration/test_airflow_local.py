"""Real Airflow 3 on loopback (LocalExecutor, PostgreSQL metadata DB): trigger the ingest
DAG through the REST API, then see the asset-triggered process DAG run by itself and the
warehouse fill; then replay the raw zone with a real ``airflow backfill create`` of
``newsflow_reprocess``, twice.  One deployment for the module; components run as separate
processes (API server, scheduler, DAG processor, triggerer) and are killed by process group."""

from __future__ import annotations

import fcntl
import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import need
from tests.dags._helpers import REPO
from tests.dags._scenario import EXAMPLES, newsflow_env, run_ingest_then_process, warehouse_articles
from tests.dags._stack import AIRFLOW, AirflowStack, postgres_available

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Backfill only creates runs for intervals that have ENDED (Airflow 3.3 drops every
# interval whose data_interval.end >= now), and the raw zone stamps feed bodies with the
# wall-clock fetch time, i.e. today: under the default @daily schedule today's fetches
# can only be backfilled tomorrow.  This deployment gives the reprocess DAG one-minute
# intervals instead (same DAG, same code path, NEWSFLOW_REPROCESS_SCHEDULE), so the
# intervals holding the fetches end a minute later.
REPROCESS_SCHEDULE = "* * * * *"
REPROCESS = "newsflow_reprocess"


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


def _feed_fetch_times(lake: Path) -> list[datetime]:
    """First-seen times of the raw feed bodies (the replay selects feeds by these)."""
    recs = [json.loads(p.read_text()) for p in (lake / "raw" / "feeds-by-day").rglob("*.json")]
    return sorted(datetime.fromisoformat(r["fetched_at"]) for r in recs)


def _stories(path: Path) -> dict[str, str]:
    """canonical_url -> story_id, read under the writers' lock (scheduled runs may write)."""
    import duckdb

    with open(f"{path}.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with duckdb.connect(str(path), read_only=True) as conn:
            return dict(conn.execute("SELECT canonical_url, story_id FROM articles").fetchall())


def _partition(stories: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for url, story in stories.items():
        groups.setdefault(story, set()).add(url)
    return {frozenset(g) for g in groups.values()}


def _backfill(stack: AirflowStack, start: datetime, end: datetime, timeout: float = 300) -> dict[str, Any]:
    """``airflow backfill create`` over logical dates [start, end]; wait for it to complete."""
    cmd = [str(AIRFLOW), "backfill", "create", "--dag-id", REPROCESS,
           "--from-date", start.isoformat(), "--to-date", end.isoformat(),
           "--reprocess-behavior", "completed", "--max-active-runs", "1"]
    ids = "SELECT id FROM backfill WHERE dag_id = %s"
    before = {i for (i,) in stack.query(ids, (REPROCESS,))}
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=stack.env, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    (backfill_id,) = {i for (i,) in stack.query(ids, (REPROCESS,))} - before
    # tasks of a paused DAG are never scheduled, backfill runs included; the DAG is paused
    # at creation, so unpause it once its runs own the window's logical dates (the scheduler
    # then skips those dates and only adds runs for later, empty intervals)
    stack.api("PATCH", f"/api/v2/dags/{REPROCESS}", {"is_paused": False})

    def done():
        stack.check_alive()
        (completed,) = stack.query("SELECT completed_at FROM backfill WHERE id = %s", (backfill_id,))[0]
        runs = stack.query("SELECT run_id, state, run_type, data_interval_start FROM dag_run "
                           "WHERE backfill_id = %s ORDER BY logical_date", (backfill_id,))
        return completed is not None and runs and all(s in ("success", "failed") for _, s, _, _ in runs) and runs

    runs = stack.wait_for(done, timeout, f"backfill {backfill_id} of {REPROCESS} to complete")
    tis = stack.query("SELECT t.run_id, t.task_id, t.state FROM task_instance t JOIN dag_run r "
                      "ON r.dag_id = t.dag_id AND r.run_id = t.run_id WHERE r.backfill_id = %s", (backfill_id,))
    return {"id": backfill_id, "runs": runs, "tis": tis, "wall_s": time.perf_counter() - t}


def _reprocess_by_backfill(stack: AirflowStack, root: Path) -> dict[str, Any]:
    """Backfill the intervals holding the ingest run's feed fetches, then the same again."""
    t0 = time.perf_counter()
    fetched = _feed_fetch_times(root / "lake")
    assert fetched, "the ingest run stored no raw feed bodies"
    start, end = _minute(fetched[0]), _minute(fetched[-1])
    wait = (end + timedelta(minutes=1, seconds=1) - datetime.now(UTC)).total_seconds()
    if wait > 0:  # the last interval must have ended, or backfill leaves it out
        time.sleep(wait)
    stack.wait_for(lambda: stack.dag_serialized(REPROCESS), 120, f"{REPROCESS} to be serialized")
    before = _stories(root / "warehouse.duckdb")
    first = _backfill(stack, start, end)
    after_first = _stories(root / "warehouse.duckdb")
    second = _backfill(stack, start, end)
    after_second = _stories(root / "warehouse.duckdb")
    return {"window": (start, end), "fetched": (fetched[0], fetched[-1]), "before": before,
            "first": first, "after_first": after_first, "second": second, "after_second": after_second,
            "added_s": time.perf_counter() - t0}


PUSH_FEED = "http://gulfledger.example/push.xml"
PUSH_ITEM = "http://gulfledger.example/2025/10/02/harbour-pilots-push-test.html"


def _push_feed(hub_url: str) -> bytes:
    """A feed with one new full-text item (no page to fetch) that advertises a hub."""
    text = ("<p>Harbour pilots in the fictional port of Qasr Bay began a trial of night-time berthing "
            "on Thursday, the port authority said, in a test of new lighting on the outer channel.</p>"
            "<p>The trial covers four berths and runs for six weeks, after which the authority will decide "
            "whether ships longer than 200 metres may enter after dark.</p>"
            "<p>Shipping agents welcomed the change, saying waits at anchor of up to a day cost owners dearly.</p>"
            "<p>The authority said tugs would escort every night arrival during the trial and that pilots "
            "would file a report on visibility, wind and traffic after each berthing, so that the "
            "decision at the end of the six weeks rests on what the crews saw.</p>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Gulf Ledger push</title>'
            f'<link>http://gulfledger.example/</link><atom:link href="{PUSH_FEED}" rel="self"/>'
            f'<atom:link href="{hub_url}" rel="hub"/><language>en</language>'
            f'<item><title>Qasr Bay pilots try night-time berthing</title><link>{PUSH_ITEM}</link>'
            f'<guid>push-test-1</guid><pubDate>Thu, 02 Oct 2025 08:00:00 +0000</pubDate>'
            f'<content:encoded><![CDATA[{text}]]></content:encoded></item></channel></rss>').encode()


def _push_to_process(stack: AirflowStack, root: Path, resolve: str) -> dict[str, Any]:
    """A WebSub push, received by ``push serve``'s receiver and processor with Airflow's
    API configured: the processor writes the batch and posts the asset event, and the
    process DAG starts by itself.  Times: push -> raw, -> process run start, -> warehouse."""
    from pipeline.config import Settings
    from pipeline.feeds import push
    from pipeline.lake import raw
    from pipeline.lake.store import open_store
    from pipeline.models import FeedSpec, FetchResult
    from pipeline.push_run import PushProcessor
    from tests.conftest import free_port
    from tests.integration.test_websub import Hub, Serve

    settings = Settings.load(lake=str(root / "lake"), warehouse=f"duckdb:///{root / 'warehouse.duckdb'}",
                             resolve=resolve, allow_private_networks=True,
                             airflow_api_url=f"http://127.0.0.1:{stack.port}")
    store = open_store(settings)
    hub = Hub(lease=3600)
    body = _push_feed(hub.url)
    raw.store_fetch(store, "feed", FetchResult(PUSH_FEED, PUSH_FEED, 200, {"content-type": "application/rss+xml"},
                                               body, datetime.now(UTC)), {"feed_url": PUSH_FEED})
    processor = PushProcessor(settings, store, window=0.2).start()
    receiver = push.PushReceiver(settings, store, on_push=processor.on_push)
    port = free_port()
    runs = "SELECT run_id, start_date, state, run_type FROM dag_run WHERE dag_id = 'newsflow_process' ORDER BY id"
    try:
        with Serve(hub.app(), hub.port), Serve(receiver.app(), port):
            report = push.sync(settings, store, [FeedSpec(url=PUSH_FEED)], f"http://127.0.0.1:{port}",
                               now=datetime.now(UTC))
            assert report.subscribed == [PUSH_FEED], report
            hub.wait_verified(1)
            before = {r[0] for r in stack.query(runs)}
            pushed_at = datetime.now(UTC)
            (answer,) = hub.publish(PUSH_FEED, body)
            assert answer.status_code == 202
            stack.wait_for(lambda: processor.batches, 60, "the push to be ingested", interval=0.1)
            (batch,) = processor.batches
            assert batch.articles == 1 and batch.event == "posted", batch

            def started():
                stack.check_alive()
                new = [r for r in stack.query(runs) if r[0] not in before and r[1] is not None]
                return new and new[0]

            run = stack.wait_for(started, 60, "a process run started by the push's asset event", interval=0.1)

            def finished():
                stack.check_alive()
                (state,) = [r[2] for r in stack.query(runs) if r[0] == run[0]]
                return state in ("success", "failed") and state

            state = stack.wait_for(finished, 240, "the pushed process run to finish")
            done_at = datetime.now(UTC)
    finally:
        processor.stop()
    (batch,) = processor.batches
    return {"to_raw_s": max(batch.to_raw_s), "to_process_start_s": (run[1] - pushed_at).total_seconds(),
            "to_warehouse_s": (done_at - pushed_at).total_seconds(), "run_type": run[3], "state": state,
            "in_warehouse": PUSH_ITEM in _stories(root / "warehouse.duckdb")}


def _backfill_warc(stack: AirflowStack, root: Path) -> dict[str, Any]:
    """Trigger newsflow_backfill over two WARC files of the sample corpus's pages: one
    mapped task per file in the backfill pool; every page is already in the lake, so the
    files are read and their captures counted as duplicates."""
    from tests.integration.test_backfill_warc import build_warc

    files = [root / "warc" / f"CC-NEWS-2025090{i}000000-00000.warc.gz" for i in (1, 2)]
    files[0].parent.mkdir(exist_ok=True)
    for f in files:
        build_warc(f)
    stack.wait_for(lambda: stack.dag_serialized("newsflow_backfill"), 120, "newsflow_backfill to be serialized")
    stack.api("PATCH", "/api/v2/dags/newsflow_backfill", {"is_paused": False})
    run = stack.api("POST", "/api/v2/dags/newsflow_backfill/dagRuns",
                    {"logical_date": None, "conf": {"sources": [str(f) for f in files], "batch_size": 10}})

    def done():
        stack.check_alive()
        states = [s for r, s, _ in stack.dag_runs("newsflow_backfill") if r == run["dag_run_id"]]
        return states and states[0] in ("success", "failed") and states[0]

    try:
        state = stack.wait_for(done, 300, "the backfill run to finish")
    except AssertionError as exc:
        tis = stack.query("SELECT task_id, map_index, state FROM task_instance WHERE dag_id = 'newsflow_backfill'")
        raise AssertionError(f"backfill run stuck; task instances: {tis}") from exc
    tis = stack.query("SELECT task_id, map_index, state, pool FROM task_instance WHERE dag_id = 'newsflow_backfill' "
                      "AND run_id = %s ORDER BY task_id, map_index", (run["dag_run_id"],))
    return {"state": state, "tis": tis}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    need(postgres_available(), "PostgreSQL at 127.0.0.1:5432 (user postgres) for the Airflow metadata DB")
    from pipeline.demo_server import DemoServer

    root = tmp_path_factory.mktemp("airflow-local")
    t0 = time.perf_counter()
    with DemoServer(EXAMPLES / "sites", port=0) as server:
        env = {**newsflow_env(root, server.resolve_setting, feeds_per_shard=3),
               "NEWSFLOW_REPROCESS_SCHEDULE": REPROCESS_SCHEDULE}
        stack = AirflowStack(root, executor="LocalExecutor", extra_env=env)
        with stack:
            result = run_ingest_then_process(stack)
            result["backfill"] = _reprocess_by_backfill(stack, root)
            result["push"] = _push_to_process(stack, root, server.resolve_setting)
            result["warc"] = _backfill_warc(stack, root)
        result["timings"].update(stack.timings, backfill_added_s=result["backfill"]["added_s"],
                                 total_s=time.perf_counter() - t0)
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
    pushed = 1 if result["push"]["in_warehouse"] else 0  # the WebSub test's article (below) came later
    assert articles == len(expected["articles"]) + pushed and related > 0


def test_backfill_replays_the_raw_zone_idempotently(deployment) -> None:
    """`airflow backfill create` over the fetch window rebuilds the same warehouse, twice."""
    result, _ = deployment
    bf = result["backfill"]
    print(f"\nbackfill window {bf['window'][0]} .. {bf['window'][1]} (feeds fetched {bf['fetched'][0]} .. "
          f"{bf['fetched'][1]}); added wall time {bf['added_s']:.1f}s "
          f"(first {bf['first']['wall_s']:.1f}s, second {bf['second']['wall_s']:.1f}s)")
    expected = yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))
    answer = {a["url"] for a in expected["articles"]}
    assert set(bf["before"]) == answer
    for key in ("first", "second"):
        runs = bf[key]["runs"]
        assert runs and {rt for _, _, rt, _ in runs} == {"backfill"}, runs
        assert {s for _, s, _, _ in runs} == {"success"}, bf[key]["tis"]
        # intervals holding fetches replay them; any minute between without one skips
        replay = [state for _, task, state in bf[key]["tis"] if task == "replay_raw"]
        assert len(replay) == len(runs) and "success" in replay and set(replay) <= {"success", "skipped"}
    assert bf["second"]["id"] != bf["first"]["id"]
    assert set(bf["after_first"]) == answer and _partition(bf["after_first"]) == _partition(bf["before"])
    assert bf["after_second"] == bf["after_first"]  # the second backfill changes nothing


def test_a_websub_push_starts_the_process_dag(deployment) -> None:
    """Issue 18: push -> raw zone within 2 s, the asset event starts newsflow_process
    within 10 s, and the pushed article reaches the warehouse."""
    result, _ = deployment
    p = result["push"]
    print(f"\nwebsub under Airflow: push->raw {p['to_raw_s']:.3f}s, push->process start "
          f"{p['to_process_start_s']:.1f}s, push->warehouse {p['to_warehouse_s']:.1f}s")
    assert p["to_raw_s"] < 2.0
    assert p["run_type"] == "asset_triggered" and p["state"] == "success"
    assert p["to_process_start_s"] < 10.0
    assert p["in_warehouse"]


def test_warc_backfill_dag_maps_one_task_per_file_in_its_pool(deployment) -> None:
    result, _ = deployment
    w = result["warc"]
    assert w["state"] == "success", w["tis"]
    per_file = [t for t in w["tis"] if t[0] == "backfill_file"]
    assert [t[1] for t in per_file] == [0, 1] and {t[2] for t in per_file} == {"success"}
    assert {t[3] for t in per_file} == {"newsflow_backfill"}
    assert {t[0] for t in w["tis"] if t[2] == "success"} >= {"list_files", "dedup", "load_warehouse", "refresh_related"}
