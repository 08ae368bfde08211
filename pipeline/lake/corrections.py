"""Editors' story corrections in the lake: one immutable JSON object per correction.

Why in the lake: dedup (which must obey them) reads only the lake, and the warehouse
mirrors them for the story pages and for audit.  Why one object each, keyed by the
correction's own content hash: writing is idempotent (the same correction twice is one
object, ``put_if_absent``), concurrent editors never overwrite each other, and nothing
is ever rewritten: a later correction of the same pair wins by its time, the history
stays.  The records are plain dicts; ``pipeline.dedup.corrections`` gives them meaning.
"""

from __future__ import annotations

import json

from pipeline.lake.store import ObjectStore

PREFIX = "corrections/"


def write(store: ObjectStore, record: dict) -> str:
    """Store one correction record (must carry ``correction_id``); returns its key."""
    key = f"{PREFIX}{record['correction_id']}.json"
    store.put_if_absent(key, json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return key


def read_all(store: ObjectStore) -> list[dict]:
    """Every correction record, oldest first (by time, then id)."""
    out = []
    for key in store.list(PREFIX):
        if key.endswith(".json"):
            out.append(json.loads(store.get(key)))
    return sorted(out, key=lambda r: (r.get("at", ""), r.get("correction_id", "")))
