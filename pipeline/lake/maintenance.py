"""Table maintenance: compaction, snapshot expiry (vacuum), and the consumers' read versions.

Compaction (``optimize.compact``) rewrites small files into large ones in a commit that
changes no data: batch ids are kept row by row, so the consumers' progress (they track
the batch ids they have loaded, plus the table version they read) is never confused,
and a reader pinned to an older version still reads it until it is vacuumed.

Every consumer records, after a successful pass, the version of each table it read
(``_consumers/<name>.json``).  Vacuum keeps every version from the oldest version a
consumer has not read yet (the one after its recorded version): the retention is
stretched to cover that version's commit time, so expiry never removes files a consumer
could still need, and a table that some consumer has never read is not vacuumed at all.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from pipeline.lake import tables
from pipeline.lake.store import ObjectStore

CONSUMERS = "_consumers"
# Which tables each consumer reads (the stage that records them).
CONSUMER_TABLES: dict[str, tuple[str, ...]] = {
    "dedup": ("articles",),  # dedup_batch_edges is its own output, read back in the same pass
    "warehouse": ("articles", "rejects", "fetch_attempts", "dedup-assignments", "dedup-edges", "dedup-aliases"),
    "related": ("articles", "dedup-assignments"),
}
DEFAULT_RETAIN_HOURS = 168.0  # Delta's own default (7 days): readers of older snapshots keep working


def pin(store: ObjectStore, consumer: str) -> dict[str, int | None]:
    """The versions ``consumer`` is about to read (taken before reading)."""
    return {kind: tables.version(store, kind) for kind in CONSUMER_TABLES[consumer]}


def record(store: ObjectStore, consumer: str, versions: dict[str, int | None]) -> None:
    """``consumer`` has read ``versions`` (after its pass succeeded)."""
    key = f"{CONSUMERS}/{consumer}.json"
    before = read_versions(store).get(consumer, {})
    done = {**before, **{k: v for k, v in versions.items() if v is not None and v >= before.get(k, -1)}}
    if done != before:  # a rerun that read nothing new writes nothing
        store.put(key, json.dumps(done, sort_keys=True).encode())


def read_versions(store: ObjectStore) -> dict[str, dict[str, int]]:
    out = {}
    for consumer in CONSUMER_TABLES:
        key = f"{CONSUMERS}/{consumer}.json"
        if store.exists(key):
            out[consumer] = json.loads(store.get(key))
    return out


@dataclass(frozen=True)
class CompactResult:
    table: str
    files_before: int
    files_removed: int
    files_added: int
    version: int | None


def compact(store: ObjectStore, kinds: list[str] | None = None, target_mb: int = 256) -> list[CompactResult]:
    """Merge small files of each table (per partition) into files up to ``target_mb``."""
    out = []
    for kind in kinds or tables.KINDS:
        dt = tables.open_table(store, kind)
        if dt is None:
            continue
        before = len(tables.files(store, kind))
        m = tables._call(f"{kind} compact", store, dt.optimize.compact, target_size=target_mb * 2**20)
        if m.get("numFilesAdded"):
            tables._call(f"{kind} checkpoint", store, dt.create_checkpoint)
        out.append(CompactResult(tables.table_name(kind), before, int(m.get("numFilesRemoved", 0)),
                                 int(m.get("numFilesAdded", 0)), tables.version(store, kind)))
    return out


@dataclass(frozen=True)
class VacuumResult:
    table: str
    retain_hours: float | None  # None: not vacuumed
    removed: int
    why: str


def _retention(store: ObjectStore, kind: str, dt, retain_hours: float) -> tuple[float | None, str]:
    readers = [c for c, kinds in CONSUMER_TABLES.items() if kind in kinds]
    done = read_versions(store)
    floors = {c: done.get(c, {}).get(kind) for c in readers}
    missing = sorted(c for c, v in floors.items() if v is None)
    if missing:
        return None, f"not read yet by {', '.join(missing)}"
    floor = min(v for v in floors.values() if v is not None) if floors else dt.version()
    if floor >= dt.version():
        return retain_hours, f"every consumer read version {floor}"
    first_unread = floor + 1
    commit = tables.commit_info(store, kind, first_unread)
    if not commit or "timestamp" not in commit:
        return None, f"commit of version {first_unread} not found"
    age_h = (time.time() * 1000 - commit["timestamp"]) / 3_600_000
    needed = math.ceil(age_h + 1)
    return max(retain_hours, needed), f"keeps versions from {first_unread} (oldest unread)"


def vacuum(store: ObjectStore, kinds: list[str] | None = None, retain_hours: float = DEFAULT_RETAIN_HOURS,
           dry_run: bool = False) -> list[VacuumResult]:
    """Delete files that no version within the retention (stretched to keep every
    version a consumer has not read) references."""
    out = []
    for kind in kinds or tables.KINDS:
        dt = tables.open_table(store, kind)
        if dt is None:
            continue
        hours, why = _retention(store, kind, dt, retain_hours)
        if hours is None:
            out.append(VacuumResult(tables.table_name(kind), None, 0, why))
            continue
        removed = tables._call(f"{kind} vacuum", store, dt.vacuum, retention_hours=int(math.ceil(hours)),
                               enforce_retention_duration=False, dry_run=dry_run)
        out.append(VacuumResult(tables.table_name(kind), hours, len(removed), why))
    return out
