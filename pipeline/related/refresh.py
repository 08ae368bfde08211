"""Incremental update of the related lists (pure computation over a :class:`State`).

Given the current dedup assignments and the features of canonicals the state has not seen,
``update`` works out which lists must change, without recomputing everything:

* a canonical that is new, or whose story or story languages changed, or whose list lost
  an entry (that entry stopped being a canonical) gets its list recomputed from the
  vector index's nearest candidates;
* every candidate found for a new canonical is offered that new canonical: scores are
  symmetric, so the pair's score is computed once and the candidate's list is re-selected
  over its stored entries plus the newcomer.  That is how an existing list gains a new
  article; candidates come from the index, never from all pairs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from pipeline.config import Settings
from pipeline.related.index import VectorIndex
from pipeline.related.scoring import Doc, Scored, TextModel, score_pair, select
from pipeline.related.state import State

log = logging.getLogger(__name__)
REBUILD_DEAD_SHARE = 0.2
CHUNK = 1024


@dataclass
class UpdateStats:
    new: int = 0
    removed: int = 0
    recomputed: int = 0
    entered: int = 0  # existing lists a new article entered
    rebuilt_index: bool = False


def _reverse(lists: Mapping[str, list[Scored]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for owner, items in lists.items():
        for s in items:
            out.setdefault(s.related_id, set()).add(owner)
    return out


def update(state: State, canonicals: Mapping[str, Doc], new_vectors: Mapping[str, np.ndarray],
           settings: Settings, dim: int) -> tuple[set[str], UpdateStats]:
    """Bring ``state`` in line with ``canonicals`` (every current canonical's Doc; vectors
    for those the state lacks).  Returns the article ids whose lists changed (or vanished)."""
    stats = UpdateStats()
    if state.index is None:
        state.index = VectorIndex(dim, settings.related_index, settings.related_hnsw_m, settings.related_ef_search)
    reverse = _reverse(state.lists)
    changed: set[str] = set()
    dirty: set[str] = set()

    removed = [a for a in state.docs if a not in canonicals]
    for a in removed:
        doc = state.docs.pop(a)
        state.df.subtract(doc.terms.keys())
        state.index.kill([state.rows.pop(a)])
        if state.lists.pop(a, None) is not None:
            changed.add(a)
        dirty |= reverse.get(a, set())
    stats.removed = len(removed)

    for a, doc in canonicals.items():
        old = state.docs.get(a)
        if old is not None and (old.story_id != doc.story_id or old.languages != doc.languages):
            state.docs[a] = Doc(a, doc.story_id, old.language, doc.languages, old.days, old.anchors, old.terms)
            dirty.add(a)
            dirty |= reverse.get(a, set())

    new = sorted(a for a in canonicals if a not in state.docs)
    if new:
        vecs = np.vstack([new_vectors[a] for a in new]).astype(np.float32)
        for a, row in zip(new, state.index.add(vecs), strict=True):
            state.docs[a] = canonicals[a]
            state.rows[a] = row
            state.df.update(canonicals[a].terms.keys())
    state.df = +state.df  # drop zero counts
    stats.new = len(new)

    if state.index.dead > REBUILD_DEAD_SHARE * max(len(state.index), 1):
        keep = sorted(state.docs, key=lambda a: state.rows[a])
        state.index = state.index.rebuilt([state.rows[a] for a in keep])
        state.rows = {a: i for i, a in enumerate(keep)}
        stats.rebuilt_index = True

    by_row = {row: a for a, row in state.rows.items()}
    text = TextModel(state.df, len(state.docs))
    dirty = (dirty & state.docs.keys()) | set(new)
    new_set = set(new)
    offers: dict[str, list[Scored]] = {}
    for items in _chunks(sorted(dirty), CHUNK):
        q = state.index.vectors([state.rows[a] for a in items])
        sims, rows = state.index.search(q, settings.related_candidates + 1)
        for i, a in enumerate(items):
            doc = state.docs[a]
            pool = []
            for cos, row in zip(sims[i], rows[i], strict=True):
                other = by_row.get(int(row)) if row >= 0 else None
                if other is None or other == a:
                    continue
                s = score_pair(doc, state.docs[other], float(cos), text, settings)
                pool.append(s)
                if a in new_set and other not in dirty:  # symmetric: offer `a` to `other`
                    offers.setdefault(other, []).append(Scored(a, s.score, s.embedding, s.text, s.anchors, s.recency))
            state.lists[a] = select(doc, pool, state.docs, settings)
            changed.add(a)
    stats.recomputed = len(dirty)

    for other, extra in offers.items():
        current = state.lists.get(other, [])
        chosen = select(state.docs[other], [*current, *extra], state.docs, settings)
        if [s.related_id for s in chosen] != [s.related_id for s in current]:
            state.lists[other] = chosen
            changed.add(other)
            stats.entered += 1
    log.info("related update: %s", stats)
    return changed, stats


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
