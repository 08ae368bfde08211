"""Issue 15 point 3: warehouse rows travel in bulk (Arrow on DuckDB, CSV COPY into a staged
table on PostgreSQL) and arrive exactly; reloading the same rows leaves identical rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from bench.warehouse_synth import make_articles
from pipeline.config import Settings
from pipeline.warehouse import loads
from pipeline.warehouse.backend import open_backend

RUN_TS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COLUMNS = ("article_id", "title", "summary", "body_text", "authors", "tags", "anchors", "language_confidence",
           "published_at", "published_at_inferred", "translator")
TRICKY = ['he said "no", then left', "line one\nline two\r\nthree", "back\\slash \\N and \\.", "", "  ",
          "عن ذي ناشنال، ترجمة", "{braces},[brackets]", "tab\there", "NULL", "null", "''", '"', "\\"]


def _tricky(n: int = 40) -> pa.Table:
    table = make_articles(n, batch_id="b1")[0]
    rows = table.to_pylist()
    for i, row in enumerate(rows):
        t = TRICKY[i % len(TRICKY)]
        row["title"] = t if i % 5 else None
        row["summary"] = TRICKY[(i + 3) % len(TRICKY)]
        row["authors"] = [[t, None, "A, B"], [], None, ['x"y', "{z}"]][i % 4]
        row["tags"] = [TRICKY[(i + 1) % len(TRICKY)], "plain"] if i % 3 else []
        row["anchors"] = [{"kind": "number", "value": t, "position": i}] if i % 2 else []
        row["published_at_inferred"] = [True, False, None][i % 3]
        row["language_confidence"] = [0.5, None, 0.25][i % 3]
    return pa.Table.from_pylist(rows, schema=table.schema)


def _rows(settings: Settings) -> list[tuple]:
    import json

    with open_backend(settings, read_only=True) as be:
        cur = be._execute("SELECT " + ", ".join(COLUMNS) + " FROM articles ORDER BY article_id")  # test read-back
        out = []
        for r in cur.fetchall():
            r = list(r)
            anchors = r[COLUMNS.index("anchors")]
            r[COLUMNS.index("anchors")] = json.loads(anchors) if isinstance(anchors, str) else anchors
            out.append(tuple(r))
        return out


def test_rows_arrive_exactly_and_a_reload_changes_nothing(wh):
    table = _tricky()
    with open_backend(wh) as be:
        be.migrate()
        assert loads.load_articles(be, "b1", table, RUN_TS) == table.num_rows
    first = _rows(wh)
    want = sorted(table.select(list(COLUMNS)).to_pylist(), key=lambda r: r["article_id"])
    assert len(first) == len(want)
    for got, row in zip(first, want, strict=True):
        got = dict(zip(COLUMNS, got, strict=True))
        for c in ("article_id", "title", "summary", "body_text", "authors", "tags", "translator",
                  "published_at_inferred"):
            assert got[c] == row[c], (c, got[c], row[c])
        assert got["anchors"] == (row["anchors"] if row["anchors"] is not None else None), got["anchors"]
        assert got["published_at"] == row["published_at"]
        conf = got["language_confidence"]
        assert (conf is None) == (row["language_confidence"] is None) and (conf is None or abs(conf - row["language_confidence"]) < 1e-6)
    with open_backend(wh) as be:
        assert loads.load_articles(be, "b1", table, RUN_TS) == 0  # ledgered: skipped
        assert loads.load_articles(be, "b1-again", table, RUN_TS) == table.num_rows  # same rows, new batch id
    assert _rows(wh) == first


def test_postgres_copy_falls_back_row_by_row_for_nested_types(tmp_path):
    """A struct column cannot travel as CSV: staging still works, row by row."""
    from pipeline.warehouse.backend_postgres import _csv_ready

    nested = pa.table({"a": [1, 2], "s": pa.array([{"x": 1}, None], pa.struct([("x", pa.int32())]))})
    assert _csv_ready(nested) is None
    lists = pa.table({"l": pa.array([["a", None, 'q"b'], None, []], pa.list_(pa.string()))})
    assert _csv_ready(lists)["l"].to_pylist() == ['{"a",NULL,"q\\"b"}', None, "{}"]
