"""The snapshot builder's column encoders write exactly what their per-value definitions
write (``encode_basestring``, ``_iso``): the API's bytes must not depend on which path
made them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from json.encoder import encode_basestring

import pyarrow as pa
import pytest

from pipeline.api.arrow_json import iso_texts, json_literals
from pipeline.api.snapshot import _iso

AWKWARD = ["", "plain", 'say "hi"', "back\\slash", "line\nbreak\r\n", "tab\tbell\x07nul\x00", "\b\f",
           "\x1f unit sep", "\u2028 line sep \u2029", "مرحبا «بالعالم»", "emoji 🙂", "\\\"\\", None, "\x7f del"]


@pytest.mark.parametrize("many", [False, True])  # a few odd rows among plain ones, or odd rows only
def test_json_literals_are_encode_basestring(many):
    values = AWKWARD * (50 if many else 1) + ["x"] * (0 if many else 500)
    got = json_literals(pa.chunked_array([pa.array(values[:7], pa.string()), pa.array(values[7:], pa.string())]))
    assert got.to_pylist() == [encode_basestring(v) if v is not None else "null" for v in values]
    for other in (pa.large_string(), pa.string_view()):
        try:
            column = pa.array(values, other)
            column.cast(pa.string())
        except pa.ArrowNotImplementedError:  # older pyarrow (the dependency floor): no such column to meet
            continue
        assert json_literals(column).to_pylist() == got.to_pylist()


def test_json_literals_of_plain_and_all_null_columns():
    assert json_literals(pa.array([None, None])).to_pylist() == ["null", "null"]
    assert json_literals(pa.array(["a1", None, "ب"])).to_pylist() == ['"a1"', "null", '"ب"']
    assert json_literals(pa.array(['x"', "plain"]).slice(1)).to_pylist() == ['"plain"']  # a slice of a column


def test_iso_texts_are_iso_of_each_value():
    aware = [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC),
             datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC), datetime(1950, 6, 1, tzinfo=UTC),
             datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC), None,
             datetime(2026, 3, 1, 12, tzinfo=timezone(timedelta(hours=3)))]
    for unit in ("s", "ms", "us"):
        for tz in (None, "UTC", "Asia/Baghdad"):
            values = [v if v is None or tz else v.astimezone(UTC).replace(tzinfo=None) for v in aware]
            column = pa.array(values, pa.timestamp("us", tz))
            if unit != "us":  # whole seconds (or milliseconds) only in those units
                column = pa.array([None if v is None else v.replace(microsecond=v.microsecond // 1000 * 1000
                                                                    if unit == "ms" else 0) for v in values],
                                  pa.timestamp(unit, tz))
            want = [_iso(v) for v in column.to_pylist()]
            assert iso_texts(column).to_pylist() == want, (unit, tz)
    text = pa.array(["2026-01-01T00:00:00+00:00", None])
    assert iso_texts(text).to_pylist() == ["2026-01-01T00:00:00+00:00", None]
