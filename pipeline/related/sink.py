"""Write related lists to the warehouse (DuckDB or PostgreSQL, through the backend).

Only lists that changed are replaced, in one transaction with the ``related_state`` row
that names the generation the warehouse now holds.  When the warehouse does not hold the
generation the lake state started from (a fresh warehouse, a restored one, another
scoring setup), every list is rewritten instead, so warehouse and lake never drift.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from pipeline.config import Settings
from pipeline.related.scoring import to_rows
from pipeline.related.state import State

_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("related_id", pa.string()), ("rank", pa.int32()), ("score", pa.float64()),
    ("score_embedding", pa.float64()), ("score_text", pa.float64()), ("score_anchors", pa.float64()),
    ("score_recency", pa.float64()),
])


def rows_table(state: State, owners: set[str] | None) -> pa.Table:
    """The stored rows of ``owners``' lists (every list when None)."""
    ids = sorted(state.lists) if owners is None else sorted(owners & state.lists.keys())
    rows = [r for a in ids for r in to_rows(a, state.lists[a])]
    return pa.Table.from_pylist([r.__dict__ for r in rows], schema=_SCHEMA)


def warehouse_generation(settings: Settings) -> tuple[str | None, float | None]:
    """(generation, min_score) the warehouse holds; (None, None) when it holds none."""
    from pipeline.warehouse.backend import open_backend, warehouse_exists

    if not warehouse_exists(settings):
        return None, None
    try:
        with open_backend(settings, read_only=True) as be:
            rows = be.query("related_generation")
    except Exception:  # no related_state table yet: the warehouse holds nothing of ours
        return None, None
    return (rows[0]["generation"], rows[0]["min_score"]) if rows else (None, None)


def sync(settings: Settings, state: State, *, previous_generation: str, changed: set[str],
         run_ts: datetime | None) -> bool:
    """Make the warehouse hold ``state``'s lists; return True when it rewrote all of them."""
    from pipeline.warehouse.session import with_writer

    held, floor = warehouse_generation(settings)
    if held == state.generation and floor == settings.related_min_score:
        return False
    full = held is None or held not in (previous_generation, state.generation)
    if held == state.generation:  # only the floor changed: record it, rewrite nothing
        changed = set()
    table = rows_table(state, None if full else changed)
    owners = pa.table({"article_id": pa.array(sorted(changed), pa.string())})
    params = {"generation": state.generation, "dedup_generation": state.dedup_generation,
              "canonicals": len(state.docs), "rows": sum(len(v) for v in state.lists.values()),
              "lists_changed": len(state.lists) if full else len(changed),
              "min_score": settings.related_min_score, "refreshed_at": run_ts}
    def write(be) -> None:  # one transaction: run again whole on a new connection if dropped
        be.migrate()
        with be.transaction():
            be.lock("related")
            if full:
                be.execute("related_clear")
                be.stage("staged_related_owners", owners.slice(0, 0))
            else:
                be.stage("staged_related_owners", owners)
            be.stage("staged_related", table, like="related_articles")
            be.script("related_replace_lists")
            be.execute("related_record", params)

    with_writer(settings, write, what="the related refresh")
    return full
