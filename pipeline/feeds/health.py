"""Feed health as an Arrow table: every ``state/feeds/*.json`` object of the lake, one row each.

The ingest side only describes; the warehouse load stage (``pipeline.warehouse.feed_health``)
is the one that writes it into the tables ``feeds`` and ``fetch_attempts``, so ingestion
never opens the warehouse (the stage order, ``tests/unit/test_layering.py``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import pyarrow as pa

from pipeline.lake.store import ObjectStore

from .state import iter_states

_TS = pa.timestamp("us", tz="UTC")
FEEDS_SCHEMA = pa.schema(
    [
        ("url", pa.string()), ("name", pa.string()), ("language", pa.string()),
        ("current_url", pa.string()), ("health", pa.string()), ("etag", pa.string()),
        ("last_modified", pa.string()), ("last_status", pa.int32()), ("last_outcome", pa.string()),
        ("last_reason", pa.string()), ("last_error", pa.string()),
        ("consecutive_errors", pa.int32()), ("total_errors", pa.int32()), ("total_polls", pa.int32()),
        ("next_poll_at", _TS), ("last_attempt_at", _TS), ("last_success_at", _TS),
        ("last_new_entries_at", _TS), ("last_entries", pa.int32()), ("ttl_minutes", pa.int32()),
        ("parked", pa.bool_()), ("parked_at", _TS), ("mirrored_at", _TS),
    ]
)


def feeds_table(store: ObjectStore, mirrored_at: datetime) -> pa.Table:
    rows = []
    for s in iter_states(store):
        row = {k: v for k, v in asdict(s).items() if k in FEEDS_SCHEMA.names}
        rows.append({**row, "health": s.health, "mirrored_at": mirrored_at})
    return pa.Table.from_pylist(rows, schema=FEEDS_SCHEMA)
