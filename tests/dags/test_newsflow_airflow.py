"""The plugin glue: Connections -> Settings, run timestamps, feed shards.

Real ``airflow.sdk.Connection`` objects and real ``AIRFLOW_CONN_*`` lookups through
Airflow's environment-variable secrets backend; no mocks.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from airflow.sdk import Connection
from newsflow_airflow import (
    lake_overrides,
    run_ts_from_context,
    settings_from_airflow,
    shard_feeds,
    warehouse_overrides,
)

from pipeline.models import FeedSpec


def _conn(**kwargs) -> Connection:
    extra = kwargs.pop("extra", None)
    return Connection(conn_id="t", extra=json.dumps(extra) if extra is not None else None, **kwargs)


# -- lake ------------------------------------------------------------------------------

def test_aws_connection_gives_s3_lake_endpoint_and_keys() -> None:
    conn = _conn(conn_type="aws", login="AKIAEXAMPLE", password="s3cr3t/+",
                 extra={"endpoint_url": "http://127.0.0.1:9000", "region_name": "eu-west-1",
                        "bucket": "news", "prefix": "/lake/"})
    assert lake_overrides(conn) == {
        "aws_access_key_id": "AKIAEXAMPLE",
        "aws_secret_access_key": "s3cr3t/+",
        "s3_endpoint_url": "http://127.0.0.1:9000",
        "s3_region": "eu-west-1",
        "lake": "s3://news/lake",
    }


def test_aws_connection_without_location_keeps_env_lake_and_rejects_non_s3() -> None:
    assert lake_overrides(_conn(conn_type="aws", extra={"endpoint_url": "http://minio:9000"})) == {
        "s3_endpoint_url": "http://minio:9000"}
    assert lake_overrides(_conn(conn_type="aws", extra={"lake": "s3://b/p"}))["lake"] == "s3://b/p"
    with pytest.raises(ValueError, match="s3://"):
        lake_overrides(_conn(conn_type="aws", extra={"lake": "/srv/lake"}))


def test_generic_connection_names_a_local_lake() -> None:
    assert lake_overrides(_conn(conn_type="generic", extra={"path": "/srv/lake"})) == {"lake": "/srv/lake"}
    assert lake_overrides(_conn(conn_type="fs", host="/data/lake")) == {"lake": "/data/lake"}


# -- warehouse -------------------------------------------------------------------------

def test_postgres_connection_becomes_a_quoted_url() -> None:
    conn = _conn(conn_type="postgres", host="db.internal", port=5433, login="news flow",
                 password="p@ss:/w#1", schema="newsflow", extra={"sslmode": "require"})
    url = warehouse_overrides(conn)["warehouse"]
    parts = urlsplit(url)
    assert parts.scheme == "postgresql" and parts.hostname == "db.internal" and parts.port == 5433
    assert parts.path == "/newsflow"
    assert parse_qs(parts.query) == {"sslmode": ["require"]}
    from urllib.parse import unquote
    assert unquote(parts.username) == "news flow" and unquote(parts.password) == "p@ss:/w#1"


def test_duckdb_connections() -> None:
    generic = _conn(conn_type="generic", host="duckdb:////srv/wh.duckdb")
    assert warehouse_overrides(generic) == {"warehouse": "duckdb:////srv/wh.duckdb"}
    from_uri = Connection.from_uri("duckdb:////srv/wh.duckdb", conn_id="w")
    assert warehouse_overrides(from_uri) == {"warehouse": "duckdb:////srv/wh.duckdb"}
    assert warehouse_overrides(_conn(conn_type="duckdb", extra={"path": "/x/wh.duckdb"})) == {
        "warehouse": "duckdb:////x/wh.duckdb"}
    assert warehouse_overrides(_conn(conn_type="generic", extra={"url": "duckdb:///rel.duckdb"})) == {
        "warehouse": "duckdb:///rel.duckdb"}


def test_unusable_warehouse_connection_raises() -> None:
    with pytest.raises(ValueError, match="not understood"):
        warehouse_overrides(_conn(conn_type="http", host="example.org"))
    with pytest.raises(ValueError, match="no database file"):
        warehouse_overrides(_conn(conn_type="duckdb"))


# -- settings_from_airflow, through Airflow's env-var secrets backend --------------------

@pytest.fixture
def clean_env(monkeypatch):
    for var in ("AIRFLOW_CONN_NEWSFLOW_LAKE", "AIRFLOW_CONN_NEWSFLOW_WAREHOUSE", "NEWSFLOW_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEWSFLOW_LAKE", "/env/lake")
    monkeypatch.setenv("NEWSFLOW_WAREHOUSE", "duckdb:////env/wh.duckdb")
    return monkeypatch


def test_without_connections_settings_come_from_env(clean_env) -> None:
    settings = settings_from_airflow()
    assert (settings.lake, settings.warehouse) == ("/env/lake", "duckdb:////env/wh.duckdb")


def test_connections_win_over_env_and_overrides_win_over_both(clean_env, caplog) -> None:
    clean_env.setenv("AIRFLOW_CONN_NEWSFLOW_LAKE", json.dumps({
        "conn_type": "aws", "login": "AKIAX", "password": "topsecret",
        "extra": {"endpoint_url": "http://127.0.0.1:9000", "bucket": "news"}}))
    clean_env.setenv("AIRFLOW_CONN_NEWSFLOW_WAREHOUSE", json.dumps({
        "conn_type": "postgres", "host": "db", "login": "nf", "password": "hunter2", "schema": "news"}))
    with caplog.at_level(logging.INFO):
        settings = settings_from_airflow()
    assert settings.lake == "s3://news"
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"
    assert settings.aws_secret_access_key == "topsecret"
    assert settings.warehouse == "postgresql://nf:hunter2@db/news"
    assert "hunter2" not in caplog.text and "topsecret" not in caplog.text
    assert settings_from_airflow(lake="/explicit").lake == "/explicit"


def test_custom_connection_ids(clean_env) -> None:
    clean_env.setenv("AIRFLOW_CONN_OTHER_WH", json.dumps({"conn_type": "generic", "host": "duckdb:////o.duckdb"}))
    assert settings_from_airflow(warehouse_conn_id="other_wh").warehouse == "duckdb:////o.duckdb"
    assert settings_from_airflow(warehouse_conn_id="").warehouse == "duckdb:////env/wh.duckdb"


# -- run_ts ----------------------------------------------------------------------------

def test_run_ts_prefers_logical_date_then_run_after() -> None:
    logical = datetime(2025, 10, 1, 12, tzinfo=UTC)
    run_after = datetime(2025, 10, 1, 13, 5, tzinfo=UTC)
    dag_run = SimpleNamespace(logical_date=None, run_after=run_after)
    assert run_ts_from_context({"logical_date": logical, "dag_run": dag_run}) == logical
    # asset-triggered runs in Airflow 3 have no logical date
    assert run_ts_from_context({"logical_date": None, "dag_run": dag_run}) == run_after
    plus3 = datetime(2025, 10, 1, 15, tzinfo=timezone(timedelta(hours=3)))
    assert run_ts_from_context({"logical_date": plus3}) == logical
    assert run_ts_from_context({"logical_date": datetime(2025, 10, 1, 12)}).tzinfo is UTC
    with pytest.raises(ValueError):
        run_ts_from_context({"logical_date": None})


def test_run_ts_accepts_pendulum() -> None:
    import pendulum

    value = run_ts_from_context({"logical_date": pendulum.datetime(2025, 10, 1, 12, tz="Asia/Baghdad")})
    assert value == datetime(2025, 10, 1, 9, tzinfo=UTC) and type(value) is datetime


# -- shards ----------------------------------------------------------------------------

def test_shards_keep_hosts_together_bounded_and_deterministic() -> None:
    feeds = [FeedSpec(f"http://{host}.example/{i}.xml", name=f"{host}{i}", language="en")
             for host, n in (("a", 3), ("b", 2), ("c", 1), ("d", 1), ("e", 2)) for i in range(n)]
    shards = shard_feeds(feeds, per_shard=3)
    assert shards == shard_feeds(list(feeds), per_shard=3)
    assert [s["name"] for s in shards] == [f"shard-{i}-of-{len(shards)}" for i in range(1, len(shards) + 1)]
    urls = [f["url"] for s in shards for f in s["feeds"]]
    assert sorted(urls) == sorted(f.url for f in feeds) and len(set(urls)) == len(urls)
    for s in shards:
        assert 1 <= len(s["feeds"]) <= 3
    hosts = [{urlsplit(f["url"]).hostname for f in s["feeds"]} for s in shards]
    for host in "abcde":
        assert sum(f"{host}.example" in h for h in hosts) == 1, host
    assert shards[0]["feeds"][0] == {"url": "http://a.example/0.xml", "name": "a0", "language": "en"}
    json.dumps(shards)  # travels through XCom


def test_shard_edge_cases() -> None:
    assert shard_feeds([]) == []
    big_host = [{"url": f"http://big.example/{i}"} for i in range(5)]
    (only,) = shard_feeds(big_host, per_shard=2)  # one host is never split
    assert len(only["feeds"]) == 5 and only["name"] == "shard-1-of-1"
    many = shard_feeds([{"url": f"http://h{i}.example/"} for i in range(25)], per_shard=2)
    assert len(many) == 13 and many[0]["name"] == "shard-01-of-13"
    with pytest.raises(ValueError):
        shard_feeds(big_host, per_shard=0)


# -- the newsflow_settings Variable ------------------------------------------------------

def test_settings_variable_sits_between_env_and_connections(clean_env) -> None:
    clean_env.setenv("AIRFLOW_VAR_NEWSFLOW_SETTINGS", json.dumps({"fetch_concurrency": 3, "lake": "/var/lake"}))
    assert (settings_from_airflow().fetch_concurrency, settings_from_airflow().lake) == (3, "/var/lake")
    clean_env.setenv("AIRFLOW_CONN_NEWSFLOW_LAKE", json.dumps({"conn_type": "generic", "extra": {"path": "/conn/lake"}}))
    assert settings_from_airflow().lake == "/conn/lake"


def test_bad_settings_variable_fails_with_its_name(clean_env) -> None:
    from newsflow_airflow.connections import variable_overrides

    clean_env.setenv("AIRFLOW_VAR_NEWSFLOW_SETTINGS", json.dumps({"lakee": "/x"}))
    with pytest.raises(ValueError, match="newsflow_settings.*lakee"):
        variable_overrides()
    clean_env.setenv("AIRFLOW_VAR_NEWSFLOW_SETTINGS", "[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        variable_overrides()


# -- run metrics -----------------------------------------------------------------------

def _metric(task_id: str, map_index: int = -1, try_number: int = 1, state: str = "success", **extra) -> dict:
    return {"dag_id": "newsflow_ingest", "run_id": "manual__2025-10-01T12:00:00+00:00", "task_id": task_id,
            "map_index": map_index, "try_number": try_number, "state": state, "hostname": "w1",
            "started_at": "2025-10-01T12:00:01+00:00", "ended_at": "2025-10-01T12:00:03+00:00",
            "duration_s": 2.0, "label": f"shard-{map_index}" if map_index >= 0 else None,
            "counts": {"articles_new": 3}, "error": None, **extra}


def test_metric_keys_are_one_per_task_try_and_safe() -> None:
    from newsflow_airflow.metrics import metric_key

    key = metric_key(_metric("ingest_shard", 2, 3))
    assert key == "metrics/runs/newsflow_ingest/manual__2025-10-01T12_00_00_00_00/ingest_shard.2.3.json"
    assert metric_key(_metric("ingest_shard", 2, 3)) == key != metric_key(_metric("ingest_shard", 2, 4))


def test_buffered_metrics_load_once_into_duckdb(settings) -> None:
    import duckdb
    from newsflow_airflow.metrics import buffer_metrics, flush_metrics

    from pipeline.lake.store import open_store

    store = open_store(settings)
    for row in (_metric("plan_shards"), _metric("ingest_shard", 0), _metric("ingest_shard", 1, 1, "up_for_retry",
                error="FetchError: boom"), _metric("ingest_shard", 1, 2)):
        buffer_metrics(store, row)
    store.put("metrics/runs/broken/x/t.0.1.json", b"{not json")
    when = datetime(2025, 10, 1, 13, tzinfo=UTC)
    first = flush_metrics(settings, recorded_at=when, store=store)
    assert first["records_loaded"] == 4 and first["records_unreadable"] == 1
    assert first["state_up_for_retry"] == 1
    again = flush_metrics(settings, recorded_at=when, store=store)
    assert again["records_loaded"] == 0  # the ledger remembers what was loaded
    with duckdb.connect(settings.duckdb_path, read_only=True) as conn:
        rows = conn.execute("SELECT task_id, map_index, try_number, state, error, counts->>'articles_new' "
                            "FROM run_metrics ORDER BY task_id, map_index, try_number").fetchall()
    assert rows == [("ingest_shard", 0, 1, "success", None, "3"), ("ingest_shard", 1, 1, "up_for_retry", "FetchError: boom", "3"),
                    ("ingest_shard", 1, 2, "success", None, "3"), ("plan_shards", -1, 1, "success", None, "3")]


def test_run_metrics_load_into_postgres(tmp_path) -> None:
    """Same code, PostgreSQL warehouse (a throwaway database on the real server)."""
    import secrets

    from tests.conftest import need
    from tests.dags._stack import PG_ADMIN, postgres_available

    need(postgres_available(), "PostgreSQL at 127.0.0.1:5432")
    import psycopg
    from newsflow_airflow.metrics import record_run_metrics

    from pipeline.config import Settings

    name = f"nf_metrics_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        settings = Settings.load(lake=str(tmp_path / "lake"), warehouse=f"postgresql://postgres@127.0.0.1:5432/{name}")
        when = datetime(2025, 10, 1, 13, tzinfo=UTC)
        assert record_run_metrics(settings, [_metric("summarize"), _metric("summarize")], recorded_at=when) == 2
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
            rows = conn.execute("SELECT task_id, state, counts->>'articles_new', duration_s FROM run_metrics").fetchall()
        assert rows == [("summarize", "success", "3", 2.0)]
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
