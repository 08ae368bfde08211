"""The stored ``hit`` record of a search document reads back exactly what was written."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone

from pipeline.search.hits import hit_fields, hit_rows

ROWS = [
    {"title": "Harbour budget", "url": "https://news.example/a", "source_domain": "news.example", "language": "en",
     "body_text": "First line.\nSecond line.", "published_at": datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)},
    {"title": "ميناء «المدينة» 𝔘", "url": "https://x.example/ب", "source_domain": None, "language": "ar",
     "body_text": "", "published_at": datetime(2026, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=3)))},
    {"title": None, "url": "u", "source_domain": "d", "language": None, "body_text": "nul \x00 and 🚀 emoji",
     "published_at": None},
    {"title": "1969", "url": "", "source_domain": "d", "language": "fr", "body_text": "é" * 5000,
     "published_at": datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC)},
]


def test_hit_records_round_trip():
    for row, record in zip(ROWS, hit_rows(ROWS), strict=True):
        back = hit_fields(record)
        assert {k: back[k] for k in row} == row
        assert back["published_at"] is None or back["published_at"].utcoffset() == timedelta(0)


def test_the_record_layout_is_a_header_then_one_utf8_run():
    """The layout is the index's schema 3 (published replicas read it): changing it needs a
    new SCHEMA_VERSION."""
    row = ROWS[1]
    (record,) = hit_rows([row])
    micros = (row["published_at"] - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    want = struct.pack("<q5i", micros, 17, 19, -1, 2, 0) + "ميناء «المدينة» 𝔘https://x.example/بar".encode()
    assert record == want


def test_naive_dates_are_utc_and_missing_fields_are_none():
    (record,) = hit_rows([{"published_at": datetime(2026, 1, 2, 3, 4, 5)}])
    back = hit_fields(record)
    assert back["published_at"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert back["title"] is None and back["body_text"] is None
