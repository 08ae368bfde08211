"""Fixtures shared by the integration suites."""

from __future__ import annotations

import pytest

from bench.warehouse_synth import PG_URL, pg_schema, postgres_available
from pipeline.config import Settings
from tests.conftest import need


@pytest.fixture(params=["duckdb", "postgres"])
def wh(request, tmp_path):
    """Settings for a fresh warehouse on each backend (a PostgreSQL schema of its own), with
    a lake folder beside it."""
    lake = str(tmp_path / "lake")
    if request.param == "duckdb":
        yield Settings.load(lake=lake, warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}")
        return
    need(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
    with pg_schema() as schema:
        yield Settings.load(lake=lake, warehouse=PG_URL, warehouse_schema=schema)
