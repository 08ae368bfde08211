"""Dedup generations in the lake: the stories of the whole known corpus, one generation
per clustering (tables ``dedup_assignments`` / ``dedup_edges`` / ``dedup_aliases``).

Each generation replaces the whole table in one commit (older generations stay reachable
by time travel until vacuumed); the assignments commit is written last and names the
current generation (``read_latest``).  ``pipeline.lake.dedup_zone`` re-exports all of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa

from pipeline.lake import tables
from pipeline.lake.batches import list_batches, read_batches, write_batch
from pipeline.lake.schema import assignments_to_table, edges_to_table, with_version
from pipeline.lake.store import ObjectStore
from pipeline.models import DedupAssignment, DedupEdge


@dataclass
class Generation:
    generation_id: str
    assignments: pa.Table
    edges: pa.Table
    aliases: pa.Table  # alias (a story id that merged into another), story_id (the survivor)


ALIAS_SCHEMA = pa.schema([("alias", pa.string()), ("story_id", pa.string())])


def generation_id_for(batch_ids: list[str], rules: str = "") -> str:
    """Deterministic from the batches and the rules fingerprint that clustered them."""
    digest = hashlib.sha256("\n".join([rules, *sorted(batch_ids)]).encode()).hexdigest()[:12]
    last = max(batch_ids) if batch_ids else "empty"
    return f"{last.split('-')[0]}-{digest}"


EDGE_COLUMNS = ["a", "b", "kind", "score", "evidence"]
GENERATION_KINDS = ("dedup-edges", "dedup-aliases", "dedup-assignments")  # write order: assignments commit last


def write_generation(store: ObjectStore, generation_id: str, assignments: list[DedupAssignment],
                     edges: list[DedupEdge], counts: dict, aliases: dict[str, str] | None = None) -> None:
    """Write one generation; ``aliases`` maps every story id that no longer exists (merged
    into another, or split) to the story holding its articles now, so links keep working.
    The assignments commit, written last, makes the generation current."""
    rows = sorted(assignments, key=lambda x: x.article_id)
    table = pa.Table.from_pydict(
        {"article_id": [x.article_id for x in rows], "story_id": [x.story_id for x in rows],
         "duplicate_of": [x.duplicate_of for x in rows], "dup_kind": [x.dup_kind for x in rows],
         "dup_score": [x.dup_score for x in rows]},
        schema=assignments_to_table([]).schema)
    pairs = sorted((aliases or {}).items())
    write_batch(store, "dedup-edges", generation_id,
                edges_to_table(sorted(edges, key=lambda e: (e.a, e.b, e.kind))), meta=counts)
    write_batch(store, "dedup-aliases", generation_id,
                pa.Table.from_pydict({"alias": [a for a, _ in pairs], "story_id": [b for _, b in pairs]},
                                     schema=with_version(ALIAS_SCHEMA, "dedup-aliases")),
                meta={"aliases": len(pairs)})
    write_batch(store, "dedup-assignments", generation_id, table, meta=counts)


def latest_id(store: ObjectStore) -> str | None:
    """The current generation: the one the assignments table's latest commit wrote."""
    return tables.latest_batch_id(store, "dedup-assignments")


def _generation_table(store: ObjectStore, kind: str, gen: str) -> pa.Table | None:
    """``kind``'s rows of generation ``gen``: the latest version, or (a run that died
    between the commits of one generation) the newest version that wrote ``gen``."""
    ver = None
    if tables.latest_batch_id(store, kind) != gen:
        ver = tables.versions_with_batch(store, kind, gen)
        if ver is None:
            return None
    return read_batches(store, kind, [gen], version=ver)


def read_latest(store: ObjectStore) -> Generation | None:
    gen = latest_id(store)
    if gen is None:
        return None
    a = _generation_table(store, "dedup-assignments", gen)
    e = _generation_table(store, "dedup-edges", gen)
    if a is None or e is None:
        return None
    al = _generation_table(store, "dedup-aliases", gen)
    aliases = al.select(["alias", "story_id"]) if al is not None else ALIAS_SCHEMA.empty_table()
    return Generation(gen, a.select(ASSIGNMENT_COLUMNS), e.select(EDGE_COLUMNS), aliases)


ASSIGNMENT_COLUMNS = ["article_id", "story_id", "duplicate_of", "dup_kind", "dup_score"]


def generation_counts(store: ObjectStore, generation_id: str) -> dict:
    m = next((b for b in list_batches(store, "dedup-assignments") if b.batch_id == generation_id), None)
    return dict(m.meta) if m else {}
