"""Dates leave extraction as aware UTC; implausible ones are flagged and not trusted."""

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.extract.dates import choose_published, parse_date

D = datetime(2025, 8, 19, 9, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-08-19T12:09:00+03:00", D),
        ("2025-08-19T09:09:00Z", D),
        ("2025-08-19T09:09:00.123456Z", D.replace(microsecond=123456)),
        ("2025-08-19T04:09:00-0500", D),
        ("2025-08-19 09:09:00", D),  # naive -> UTC
        ("20250819T090900Z", D),
        ("2025-08-19", datetime(2025, 8, 19, tzinfo=UTC)),
        ("Tue, 19 Aug 2025 12:09:00 +0300", D),
        ("Tue, 19 Aug 2025 09:09:00 GMT", D),
        ("19 Aug 2025 05:09:00 EDT", D),
        ("2025/08/19 09:09", D),
        ("19 August 2025 09:09", D),
        ("August 19, 2025 9:09 AM", D),
        ("Aug 19, 2025", datetime(2025, 8, 19, tzinfo=UTC)),
        ("1755594540", D),
    ],
)
def test_parse_date_formats(value: str, expected: datetime) -> None:
    got = parse_date(value)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [None, "", "   ", "yesterday", "2025-13-45", "x" * 500, "32 Foo 2025"])
def test_parse_date_garbage_is_none(value: str | None) -> None:
    assert parse_date(value) is None


FETCHED = datetime(2025, 8, 20, 12, 0, tzinfo=UTC)


def test_feed_date_preferred() -> None:
    feed, page = datetime(2025, 8, 19, tzinfo=UTC), datetime(2025, 8, 18, tzinfo=UTC)
    assert choose_published(feed, page, FETCHED, 24) == (feed, "feed", None)


def test_page_used_without_feed() -> None:
    page = datetime(2025, 8, 18, tzinfo=UTC)
    assert choose_published(None, page, FETCHED, 24) == (page, "page", None)


def test_future_feed_date_falls_through_and_keeps_flag() -> None:
    feed = FETCHED + timedelta(days=3)
    page = datetime(2025, 8, 18, tzinfo=UTC)
    assert choose_published(feed, page, FETCHED, 24) == (page, "page", "future")


def test_within_tolerance_is_not_future() -> None:
    feed = FETCHED + timedelta(hours=23)
    assert choose_published(feed, None, FETCHED, 24) == (feed, "feed", None)


def test_too_old_then_fetched() -> None:
    old = datetime(1970, 1, 1, tzinfo=UTC)
    assert choose_published(old, None, FETCHED, 24) == (FETCHED, "fetched", "too_old")


def test_nothing_known_uses_fetch_time() -> None:
    assert choose_published(None, None, FETCHED, 24) == (FETCHED, "fetched", None)


def test_naive_inputs_become_utc() -> None:
    naive = datetime(2025, 8, 19, 9, 0)
    got, source, flag = choose_published(naive, None, FETCHED.replace(tzinfo=None), 24)
    assert got == naive.replace(tzinfo=UTC) and source == "feed" and flag is None
