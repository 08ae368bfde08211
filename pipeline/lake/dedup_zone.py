"""Dedup generations in the lake: the assignments and edges computed over a set of batches.

A generation id is derived from the article batches it covered, so re-running dedup over
the same lake rewrites the same keys.  ``dedup/LATEST`` names the newest committed one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa

from pipeline.lake.batches import list_batches, read_batch, read_manifest, write_batch
from pipeline.lake.schema import assignments_to_table, edges_to_table
from pipeline.lake.store import ObjectStore
from pipeline.models import DedupAssignment, DedupEdge

LATEST = "dedup/LATEST"


@dataclass
class Generation:
    generation_id: str
    assignments: pa.Table
    edges: pa.Table


def generation_id_for(batch_ids: list[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(batch_ids)).encode()).hexdigest()[:12]
    last = max(batch_ids) if batch_ids else "empty"
    return f"{last.split('-')[0]}-{digest}"


def write_generation(store: ObjectStore, generation_id: str, assignments: list[DedupAssignment],
                     edges: list[DedupEdge], counts: dict) -> None:
    write_batch(store, "dedup-assignments", generation_id,
                assignments_to_table(sorted(assignments, key=lambda x: x.article_id)), meta=counts)
    write_batch(store, "dedup-edges", generation_id,
                edges_to_table(sorted(edges, key=lambda e: (e.a, e.b, e.kind))), meta=counts)
    store.put(LATEST, generation_id.encode())


def read_latest(store: ObjectStore) -> Generation | None:
    if not store.exists(LATEST):
        return None
    gen = store.get(LATEST).decode().strip()
    a = read_manifest(store, "dedup-assignments", gen)
    e = read_manifest(store, "dedup-edges", gen)
    if a is None or e is None:
        return None
    return Generation(gen, read_batch(store, a), read_batch(store, e))


def generation_counts(store: ObjectStore, generation_id: str) -> dict:
    m = read_manifest(store, "dedup-assignments", generation_id)
    return dict(m.meta) if m else {}


__all__ = ["Generation", "generation_id_for", "write_generation", "read_latest", "list_batches", "generation_counts"]
