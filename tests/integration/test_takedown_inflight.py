"""Issue 19 under Airflow's interleavings: a takedown requested while DAG runs are in
flight still ends with the article gone.

The DAG tasks call ``pipeline.ingest.ingest`` (ingest shards), then ``stages.dedup``,
``stages.load_warehouse`` and ``stages.refresh_related`` (``plugins/newsflow_airflow/
tasks.py``).  Each test runs those same functions in DAG order with the takedown landing
at a different point, including *inside* a stage (after it read its input, before it
wrote): the ingest shard's lake write, the load's merge, the related refresh's save.
A short real-Airflow run is in ``tests/integration/test_airflow_takedown.py``.

Each ends with the byte search of ``test_takedown`` over the lake and the warehouse, and
checks that the batch's other articles were not lost with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from pipeline.config import Settings
from pipeline.demo_server import DemoServer
from pipeline.feeds.registry import load_feeds
from pipeline.ingest import ingest
from pipeline.stages import dedup, load_warehouse, refresh_related
from pipeline.takedown import take_down
from tests.conftest import EXAMPLES
from tests.integration import _revise as rv
from tests.integration.test_takedown import PLANTED_ID, lake_hits, warehouse_hits

pytestmark = pytest.mark.integration
T0 = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)
OTHERS = 61  # the sample corpus's articles: none may be lost with the planted one


@pytest.fixture
def settings(tmp_path):
    sites = rv.copy_sites(tmp_path / "sites")
    rv.plant(sites)
    with DemoServer(sites, port=0) as srv:
        yield Settings.load(lake=str(tmp_path / "lake"), warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}",
                            resolve=srv.resolve_setting, allow_private_networks=True)


def _takedown(settings: Settings) -> None:
    take_down(settings, rv.PLANTED_URL, reason="publisher request (test)", by="ops",
              requested_at=T0 + timedelta(minutes=30))


def _dag_run(settings: Settings, run_ts: datetime) -> None:
    ingest(settings, load_feeds(str(EXAMPLES / "feeds.yaml")), run_ts=run_ts)
    dedup(settings)
    load_warehouse(settings, run_ts=run_ts)
    refresh_related(settings, run_ts=run_ts)


def _assert_gone_and_nothing_else(settings: Settings) -> None:
    assert lake_hits(settings) == []
    assert warehouse_hits(settings) == []
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    try:
        ids = {r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()}
        related = con.execute("SELECT count(*) FROM related_articles WHERE article_id = ? OR related_id = ?",
                              [PLANTED_ID, PLANTED_ID]).fetchone()[0]
    finally:
        con.close()
    assert PLANTED_ID not in ids and len(ids) == OTHERS and related == 0


def test_takedown_between_ingest_and_the_process_dag(settings):
    """Ingest committed the batch; the takedown lands before dedup, load and related read it
    (the consumers have not read that table version: they still get every other row)."""
    ingest(settings, load_feeds(str(EXAMPLES / "feeds.yaml")), run_ts=T0)
    _takedown(settings)
    dedup(settings)
    load_warehouse(settings, run_ts=T0)
    refresh_related(settings, run_ts=T0)
    _assert_gone_and_nothing_else(settings)


def test_takedown_while_an_ingest_shard_is_writing(settings, monkeypatch):
    """The shard built its articles before the tombstone existed and writes after it."""
    import pipeline.ingest as ing

    real = ing.write_outputs

    def racing(*args, **kwargs):
        _takedown(settings)
        return real(*args, **kwargs)

    monkeypatch.setattr(ing, "write_outputs", racing)
    _dag_run(settings, T0)
    _assert_gone_and_nothing_else(settings)


def test_takedown_while_the_load_merges(settings, monkeypatch):
    """The load read the batch (with the article) before the takedown; it merges after."""
    import pipeline.warehouse.loads as loads

    ingest(settings, load_feeds(str(EXAMPLES / "feeds.yaml")), run_ts=T0)
    dedup(settings)
    real, fired = loads.load_articles, []

    def racing(be, batch_id, table, loaded_at, *more):
        if not fired:
            fired.append(1)
            from pipeline.lake.store import open_store
            from pipeline.lake.tombstones import Tombstone, write

            # the CLI's first step (the tombstone) lands now; its warehouse part waits for
            # the load's lock, as it would in another process
            write(open_store(settings), Tombstone(PLANTED_ID, rv.PLANTED_URL, rv.PLANTED_URL,
                                                  "publisher request (test)", "ops", "2025-09-30T12:30:00+00:00"))
        return real(be, batch_id, table, loaded_at, *more)

    monkeypatch.setattr(loads, "load_articles", racing)
    load_warehouse(settings, run_ts=T0)
    monkeypatch.setattr(loads, "load_articles", real)
    _takedown(settings)  # the CLI finishes (the same request: idempotent)
    refresh_related(settings, run_ts=T0)
    _assert_gone_and_nothing_else(settings)


def test_takedown_while_related_refreshes_then_a_later_run(settings, monkeypatch):
    """The related refresh scored the article before the takedown and saves after; then a
    later DAG run (feed re-polled unconditionally) must not resurrect anything."""
    import pipeline.related.state as st

    ingest(settings, load_feeds(str(EXAMPLES / "feeds.yaml")), run_ts=T0)
    dedup(settings)
    load_warehouse(settings, run_ts=T0)
    real, fired = st.save, []

    def racing(store, state):
        if not fired:
            fired.append(1)
            _takedown(settings)
        return real(store, state)

    monkeypatch.setattr(st, "save", racing)
    refresh_related(settings, run_ts=T0)
    monkeypatch.setattr(st, "save", real)
    _assert_gone_and_nothing_else(settings)
    later = T0 + timedelta(hours=4)
    report = ingest(settings, load_feeds(str(EXAMPLES / "feeds.yaml")), run_ts=later, force=True)
    assert report.rejects_by_reason.get("feed:taken_down") == 1
    dedup(settings)
    load_warehouse(settings, run_ts=later)
    refresh_related(settings, run_ts=later)
    _assert_gone_and_nothing_else(settings)
