"""Readiness decisions (pure) and the schedule arithmetic behind ``ready_max_age``."""

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.api.health import readiness
from pipeline.config import Settings, schedule_seconds

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_readiness_reasons_in_order():
    assert readiness(reachable=False, snapshot_loaded=True, last_load=NOW, now=NOW, max_age=60).reason == \
        "warehouse unreachable"
    assert readiness(reachable=True, snapshot_loaded=False, last_load=NOW, now=NOW, max_age=60).reason == \
        "no data loaded yet"
    assert not readiness(reachable=True, snapshot_loaded=True, last_load=None, now=NOW, max_age=60).ready
    stale = readiness(reachable=True, snapshot_loaded=True, last_load=NOW - timedelta(seconds=61), now=NOW, max_age=60)
    assert not stale.ready and stale.reason == "data is stale: last load 61 s ago, limit 60 s"
    fresh = readiness(reachable=True, snapshot_loaded=True, last_load=(NOW - timedelta(seconds=59)).replace(tzinfo=None),
                      now=NOW, max_age=60)
    assert fresh.ready and fresh.body() == {"status": "ready", "reason": "ok", "data_age_seconds": 59}


@pytest.mark.parametrize("expr,seconds", [("@hourly", 3600), ("@daily", 86400), ("*/15 * * * *", 900),
                                          ("5 * * * *", 3600), ("0 */6 * * *", 21600), ("30 2 * * *", 86400),
                                          ("none", 86400), ("0 9 * * 1-5", 86400)])
def test_schedule_seconds(expr, seconds):
    assert schedule_seconds(expr) == seconds


def test_ready_max_age_defaults_to_twice_the_ingest_schedule():
    assert Settings.load(ingest_schedule="*/30 * * * *").ready_max_age_seconds == 3600
    assert Settings.load(ingest_schedule="@hourly", ready_max_age=100).ready_max_age_seconds == 100
