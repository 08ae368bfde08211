"""``newsflow dedup explain A B`` over the lake: the pipeline's own decision, replayed.

It runs exactly the code the dedup stage ran for the pair: the candidate indexes over the
batch that brought the later of the two articles and every batch before it
(``pipeline.dedup.match.candidates``), the matcher's rule (``pipeline.dedup.verify``)
and, from the latest generation, the cluster check: whether the two share a story and
through which edges.  It also says whether the stored edges were made under the rules
running now; if not, the next ``newsflow run`` recomputes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import Settings
from pipeline.dedup.engine import chain_for, explain_docs, story_path
from pipeline.dedup.rules import index_fingerprint, match_fingerprint
from pipeline.lake import dedup_zone
from pipeline.lake.articles import batch_ids
from pipeline.lake.store import ObjectStore
from pipeline.models import DedupAssignment, DedupEdge


class ExplainError(ValueError):
    """An article the lake does not know, or a lake not yet deduplicated."""


@dataclass
class _Stored:
    """The latest generation in the shape ``story_path`` reads."""

    assignments: dict[str, DedupAssignment]
    edges: list[DedupEdge]


def _stored(generation) -> _Stored:
    import json

    asg = {r["article_id"]: DedupAssignment(r["article_id"], r["story_id"], r["duplicate_of"],
                                            r["dup_kind"], r["dup_score"])
           for r in generation.assignments.to_pylist()}
    edges = [DedupEdge(r["a"], r["b"], r["kind"], r["score"], json.loads(r["evidence"] or "{}"))
             for r in generation.edges.to_pylist()]
    return _Stored(asg, edges)


def explain_stored(store: ObjectStore, settings: Settings, a_id: str, b_id: str) -> dict:
    """The pipeline's decision for two lake articles (JSON-serialisable)."""
    ids = batch_ids(store)
    meta = dedup_zone.read_meta(store, ids)
    missing = [x for x in (a_id, b_id) if x not in meta]
    if missing:
        raise ExplainError(f"not in the dedup index: {', '.join(missing)} (run `newsflow run` first)")
    later = max(meta[a_id]["batch_id"], meta[b_id]["batch_id"])
    new = dedup_zone.read_index(store, later)
    known = dedup_zone.load_known(store, [b for b in ids if b < later])
    new_ids = {d.id for d in new}
    docs = list(new) + [d for d in known if d.id not in new_ids]
    chain = chain_for(settings)
    out = explain_docs(docs, len(new), a_id, b_id, chain, settings,
                       load=dedup_zone.loader(store, index_fingerprint(settings)))
    generation = dedup_zone.read_latest(store)
    if generation is None:
        raise ExplainError("no dedup generation yet (run `newsflow run` first)")
    stored = _stored(generation)
    pair = tuple(sorted((a_id, b_id)))
    edge = [e for e in stored.edges if (e.a, e.b) == pair]
    current = dedup_zone.batch_edges_fingerprint(store, later) == match_fingerprint(settings)
    out["stored_edge"] = ({"kind": edge[0].kind, "score": edge[0].score,
                           "in_story": edge[0].evidence.get("in_story"),
                           "unspecific": edge[0].evidence.get("unspecific")} if edge else None)
    out["stored_under_current_rules"] = current
    out["matched_in_batch"] = later
    out["story"] = story_path(stored, a_id, b_id)
    out["decision"]["same_story"] = out["story"]["same_story"]
    if current and bool(edge) != bool(out["edge"]["accepted"]):
        out["warning"] = "the stored edge and the replayed decision disagree; please report this"
    return out
