"""DuckDB read-only connections: shared while in use, closed once idle, never kept open
against this process's own writer.  One reaper thread closes idle readers (a timer thread
per query cost more to start than a search takes)."""

from __future__ import annotations

import threading
import time

import duckdb

from pipeline.config import Settings
from pipeline.warehouse import backend_duckdb as bd
from pipeline.warehouse.backend import open_backend


def _settings(tmp_path, idle: float) -> Settings:
    path = tmp_path / "wh.duckdb"
    duckdb.connect(str(path)).close()
    return Settings.load(warehouse=f"duckdb:///{path}", lake=str(tmp_path / "lake"),
                         warehouse_reader_idle_seconds=idle)


def test_an_idle_reader_closes_after_its_idle_seconds_and_not_before(tmp_path):
    settings = _settings(tmp_path, idle=0.4)
    key = str((tmp_path / "wh.duckdb").resolve())
    threads = threading.active_count()
    for _ in range(50):  # many queries: one shared connection, no thread per query
        with open_backend(settings, read_only=True) as be:
            assert be._execute("SELECT 42").fetchone() == (42,)
    assert threading.active_count() <= threads + 1
    assert key in bd._READERS
    time.sleep(0.15)
    assert key in bd._READERS  # idle for less than 0.4 s
    deadline = time.monotonic() + 5
    while key in bd._READERS and time.monotonic() < deadline:
        time.sleep(0.05)
    assert key not in bd._READERS


def test_a_reader_in_use_is_never_closed_and_idle_zero_closes_at_once(tmp_path):
    settings = _settings(tmp_path, idle=0.1)
    key = str((tmp_path / "wh.duckdb").resolve())
    with open_backend(settings, read_only=True) as be:
        time.sleep(0.4)
        assert key in bd._READERS
        assert be._execute("SELECT 1").fetchone() == (1,)
    now = Settings.load(warehouse=settings.warehouse, lake=settings.lake, warehouse_reader_idle_seconds=0)
    with open_backend(now, read_only=True) as be:
        be._execute("SELECT 1")
    assert key not in bd._READERS
    with open_backend(now) as writer:  # nothing of ours keeps the writer out
        writer._execute("CREATE TABLE t AS SELECT 1 AS x")


def test_reader_threads_setting_reaches_the_connection(tmp_path):
    """``warehouse_reader_threads`` (the API workers use 1: key lookups, where a second
    DuckDB thread only adds scheduling); 0 leaves DuckDB's default."""
    settings = _settings(tmp_path, idle=0).replace(warehouse_reader_threads=1)
    with open_backend(settings, read_only=True) as be:
        assert be._execute("SELECT current_setting('threads')").fetchone()[0] == 1
    bd.close_readers()
    with open_backend(settings.replace(warehouse_reader_threads=0), read_only=True) as be:
        assert be._execute("SELECT current_setting('threads')").fetchone()[0] >= 1


def test_api_workers_read_with_one_duckdb_thread(tmp_path):
    from pipeline.api.app import create_app

    app = create_app(_settings(tmp_path, idle=0).replace(api_snapshot_builder="external"))
    assert app.state.holder.settings.warehouse_reader_threads == 1


def test_the_change_signature_moves_with_every_commit_and_only_then(tmp_path):
    """The API's snapshot builder opens the warehouse only when this signature moved
    (``pipeline.api.supervisor._builder``): a commit must move it; reads must not."""
    from pipeline.warehouse.backend import change_signature

    settings = _settings(tmp_path, idle=0)
    with open_backend(settings) as be:
        be._execute("CREATE TABLE t (x INTEGER)")
    first = change_signature(settings)
    with open_backend(settings, read_only=True) as be:
        assert be._execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert change_signature(settings) == first
    seen = {first}
    for n in range(3):  # each commit: the log moves at once, the file at the writer's checkpoint
        with open_backend(settings) as be:
            be._execute("INSERT INTO t VALUES (?)", [n])
            during = change_signature(settings)
        after = change_signature(settings)
        assert during not in seen and after not in seen
        seen |= {during, after}
    assert change_signature(Settings.load(warehouse="postgresql://postgres@127.0.0.1:5432/test")) is None
