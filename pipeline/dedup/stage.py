"""Dedup stage: incremental, batch by batch, against the persisted index in the lake.

For each committed article batch, oldest first, that has no edges yet (or edges computed
under other settings):

1. index its articles once (shingle hashes, LSH band keys, anchors, the vectors of each
   article's sketch: ``pipeline.dedup.sketch``) and persist the index (``dedup-index``);
2. load the *light* index rows of earlier batches published inside the window around the
   batch's dates (no bodies, no re-encoding), and match the batch against them and itself
   (``pipeline.dedup.match``); sentences of the few known candidates load lazily;
3. persist that batch's edges (``dedup-batch-edges``) and the whole sentence vectors the
   matcher encoded for candidate pairs (``dedup-sentvec``: never encoded again).

Then all batch edges are clustered into one generation (``dedup-assignments`` /
``dedup-edges``), under the editors' corrections (``pipeline.dedup.corrections``, read
from the lake; a new correction makes a new generation even when no batch is new): clustering is linear in the edges, and re-clustering everything is
what lets a late-arriving original re-point its earlier-seen translations.  A batch's
edges depend only on the batches before it, the generation id only on the batch ids,
so re-running changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pipeline.config import Settings
from pipeline.dedup import corrections
from pipeline.dedup.rules import cluster_fingerprint, index_fingerprint, match_fingerprint
from pipeline.lake import corrections as lake_corrections
from pipeline.lake import dedup_secvec, dedup_sentvec, dedup_zone, tombstones
from pipeline.lake.articles import batch_ids, read_articles
from pipeline.lake.purge import enforce
from pipeline.lake.store import ObjectStore, open_store

log = logging.getLogger(__name__)



@dataclass
class DedupReport:
    generation_id: str | None
    articles: int
    counts: dict = field(default_factory=dict)
    batches_matched: int = 0


def dedup_batch(store: ObjectStore, settings: Settings, batch_id: str, earlier: list[str],
                chain=None, cache: dict[str, list] | None = None) -> int:
    """Index and match one article batch against the earlier ones; returns its edge count."""
    from pipeline.dedup.engine import chain_for
    from pipeline.dedup.index import index_articles
    from pipeline.dedup.match import match

    chain = chain or chain_for(settings)
    ifp = index_fingerprint(settings)
    m = dedup_zone.index_manifest(store, batch_id)
    if m is not None and m.meta.get("fingerprint") == ifp:
        new = dedup_zone.read_index(store, batch_id)
    else:
        articles = read_articles(store, [batch_id])
        new = index_articles(articles, chain[0], min_text_chars=settings.min_text_chars,
                             lsh_threshold=settings.lsh_threshold, num_perm=settings.minhash_perm)
        dedup_zone.write_index(store, batch_id, new, ifp)
        for r, d in enumerate(sorted(new, key=lambda d: d.id)):  # the file's row order
            d.location = (dedup_zone.index_key(batch_id), r)
    known = dedup_zone.load_known(store, earlier, cache)
    mine = {d.id for d in new}
    known = [d for d in known if d.id not in mine]  # a revision is never matched with its own older version
    edges = match(new, known, chain, settings, load=dedup_zone.loader(store, ifp))
    # whole sentence vectors encoded for candidate pairs: persisted, never encoded twice
    dedup_sentvec.write(store, batch_id, [*new, *known], ifp)
    dedup_secvec.write(store, batch_id, [*new, *known], ifp)  # and the secondary encoder's (e5)
    dedup_zone.unload(known)
    dedup_zone.write_batch_edges(store, batch_id, edges, match_fingerprint(settings))
    log.info("dedup batch %s: %d new vs %d known -> %d edges", batch_id, len(new),
             len(known), len(edges))
    return len(edges)


def dedup(settings: Settings, *, store: ObjectStore | None = None) -> DedupReport:
    """Match new article batches incrementally, then write the generation of all stories;
    records the lake table versions it read (vacuum keeps what a consumer has not read)."""
    from pipeline.lake import maintenance

    store = store or open_store(settings)
    pinned = maintenance.pin(store, "dedup")
    before = tombstones.load(store)
    report = _dedup(settings, store)
    maintenance.record(store, "dedup", pinned)
    enforce(store, before)  # a takedown requested while this run was in flight (issue 19)
    return report


def _dedup(settings: Settings, store: ObjectStore) -> DedupReport:
    from pipeline.dedup.engine import chain_for, cluster_edges

    ids = batch_ids(store)
    if not ids:
        return DedupReport(None, 0)
    mfp = match_fingerprint(settings)
    fps = dedup_zone.batch_edges_fingerprints(store)
    todo = [b for b in ids if fps.get(b) != mfp]
    fixes = [corrections.from_record(r) for r in lake_corrections.read_all(store)]
    stones = tombstones.load(store)  # a takedown re-clusters without the article (issue 19)
    generation = dedup_zone.generation_id_for(ids, cluster_fingerprint(settings) + corrections.digest(fixes)
                                              + tombstones.digest(stones))
    if not todo and dedup_zone.latest_id(store) == generation:
        counts = dedup_zone.generation_counts(store, generation)
        return DedupReport(generation, sum(1 for _ in dedup_zone.read_meta(store, ids)), counts)
    chain = chain_for(settings) if todo else None
    pending = set(todo)
    cache: dict[str, list] = {}  # light rows per batch, read once per run
    for bid in todo:  # known: earlier batches, and later ones already matched (a backfill)
        pending.discard(bid)
        dedup_batch(store, settings, bid, [b for b in ids if b != bid and (b < bid or b not in pending)],
                    chain, cache)
    meta = {k: _Meta(**v) for k, v in dedup_zone.read_meta(store, ids).items()}
    # Revisions (issue 19): an edge counts only when computed with the current version of
    # both articles; the batch holding a newer version matched it again.
    current = dedup_zone.current_batches(store)
    edges = [e for e in dedup_zone.read_batch_edges(store, ids, current=current)
             if e.a in meta and e.b in meta and e.a not in stones.stones and e.b not in stones.stones]
    meta = {k: m for k, m in meta.items() if k not in stones.stones}
    result = cluster_edges(meta, edges, first_seen={k: (m.batch_id, k) for k, m in meta.items()},
                           corrections=fixes)
    previous = dedup_zone.read_latest(store)
    aliases = story_aliases(previous, result.assignments)
    dedup_zone.write_generation(store, generation, list(result.assignments.values()),
                                result.edges, result.counts, aliases)
    log.info("dedup %s: %d articles, %d batches matched, %s", generation, len(meta), len(todo),
             result.counts)
    return DedupReport(generation, len(meta), dict(result.counts), len(todo))


@dataclass
class _Meta:
    """What the canonical choice reads about an article (from the index, not the body)."""

    article_id: str
    language: str
    published_at: object
    translator: str | None
    original_outlet: str | None
    batch_id: str  # the first batch that held the article: story ids follow it
    source_domain: str | None = None  # one outlet's template runs (cluster.unspecific_translations)


def story_aliases(previous, assignments: dict) -> dict[str, str]:
    """Every story id of the previous generation (and every alias it carried) that no
    longer names a story, mapped to the story that now holds most of its articles: a
    link an editor shared keeps resolving after stories merge or split."""
    if previous is None:
        return {}
    current = {a.story_id for a in assignments.values()}
    old = previous.assignments.to_pydict()
    holders: dict[str, dict[str, int]] = {}
    for art, sid in zip(old["article_id"], old["story_id"], strict=True):
        if sid not in current and art in assignments:
            votes = holders.setdefault(sid, {})
            votes[assignments[art].story_id] = votes.get(assignments[art].story_id, 0) + 1
    out = {sid: min(votes, key=lambda s: (-votes[s], s)) for sid, votes in holders.items()}
    prev = previous.aliases.to_pydict()
    for alias, target in zip(prev["alias"], prev["story_id"], strict=True):
        if alias in current:
            continue  # the id names a story again
        out.setdefault(alias, target if target in current else out.get(target, target))
    return {a: t for a, t in sorted(out.items()) if t in current}
