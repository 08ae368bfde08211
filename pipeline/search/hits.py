"""The stored ``hit`` field of a search document: what a search hit shows, so a plain search
reads no warehouse row (on DuckDB the hits' rows by key were a 2-4 ms scan at 1M articles).

One record per article: a fixed header (the publication time in epoch microseconds, then the
length in characters of title, URL, outlet, language and body; -1 for a missing one) and the
five texts as one UTF-8 run.  Not JSON (16-25 us a document to write) and not pickle
(published indexes are read by replicas).  The layout is the index's ``SCHEMA_VERSION`` 3:
changing it needs a new version (``tests/unit/test_search_hit_record.py`` pins it).
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import Any

_HIT = ("title", "url", "source_domain", "language", "body_text")
_HIT_HEAD = struct.Struct("<q5i")  # published_at (epoch microseconds), then each field's length in characters
_NO_DATE = -(2**63)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
HIT_COLUMNS = (*_HIT, "published_at")


def hit_records(table: Any) -> list[bytes]:
    """The stored ``hit`` field of each row of an Arrow table with ``HIT_COLUMNS`` (naive
    dates are UTC, as everywhere in newsflow): a fixed header and one UTF-8 run, not JSON.
    Built column-wise in Arrow: per row in Python (JSON, then a struct and a join) it cost
    10-25 us a document in the load's main process, a fifth of a load's time."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    head = np.empty(table.num_rows, dtype=np.dtype([("t", "<i8")] + [(f"n{i}", "<i4") for i in range(len(_HIT))]))
    when = pc.cast(table["published_at"], pa.timestamp("us", tz="UTC"))
    head["t"] = pc.cast(when, pa.int64()).fill_null(_NO_DATE).to_numpy()
    texts = []
    for i, name in enumerate(_HIT):
        col = pc.cast(table[name], pa.string())
        head[f"n{i}"] = pc.utf8_length(col).fill_null(-1).to_numpy()
        texts.append(pc.cast(col.fill_null(""), pa.binary()))
    heads = pa.FixedSizeBinaryArray.from_buffers(pa.binary(_HIT_HEAD.size), len(head), [None, pa.py_buffer(head)])
    return pc.binary_join_element_wise(pc.cast(heads, pa.binary()), *texts, b"").to_pylist()


def hit_rows(rows: list[dict[str, Any]]) -> list[bytes]:
    """``hit_records`` of warehouse rows (dicts with ``HIT_COLUMNS``)."""
    import pyarrow as pa

    schema = pa.schema([(c, pa.string()) for c in _HIT] + [("published_at", pa.timestamp("us", tz="UTC"))])
    return hit_records(pa.Table.from_pylist(rows, schema=schema))


def hit_fields(stored: bytes) -> dict[str, Any]:
    """A ``hit_records`` record read back (``published_at`` an aware UTC datetime)."""
    micro, *lengths = _HIT_HEAD.unpack_from(stored)
    text = stored[_HIT_HEAD.size:].decode("utf-8", "surrogatepass")
    out: dict[str, Any] = {"published_at": None if micro == _NO_DATE else _EPOCH + micro * _MICRO}
    pos = 0
    for key, n in zip(_HIT, lengths, strict=True):
        out[key] = None if n < 0 else text[pos:pos + n]
        pos += max(n, 0)
    return out
