"""The stored ``hit`` record of a search document reads back exactly what was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipeline.search.index import hit_bytes, hit_fields


@pytest.mark.parametrize("row", [
    {"title": "Harbour budget", "url": "https://news.example/a", "source_domain": "news.example", "language": "en",
     "body_text": "First line.\nSecond line.", "published_at": datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)},
    {"title": "ميناء «المدينة» 𝔘", "url": "https://x.example/ب", "source_domain": None, "language": "ar",
     "body_text": "", "published_at": datetime(2026, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=3)))},
    {"title": None, "url": "u", "source_domain": "d", "language": None, "body_text": "lone \ud800 surrogate",
     "published_at": None},
])
def test_hit_record_round_trips(row):
    back = hit_fields(hit_bytes(row))
    assert {k: back[k] for k in row} == row
    assert back["published_at"] is None or back["published_at"].utcoffset() == timedelta(0)


def test_naive_dates_are_utc_and_missing_fields_are_none():
    back = hit_fields(hit_bytes({"published_at": datetime(2026, 1, 2, 3, 4, 5)}))
    assert back["published_at"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert back["title"] is None and back["body_text"] is None
