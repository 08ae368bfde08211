"""Dedup stage: cluster every committed lake article into stories; write a dedup generation."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pipeline.config import Settings
from pipeline.lake import dedup_zone
from pipeline.lake.articles import batch_ids, read_articles
from pipeline.lake.store import ObjectStore, open_store

log = logging.getLogger(__name__)


@dataclass
class DedupReport:
    generation_id: str | None
    articles: int
    counts: dict = field(default_factory=dict)


def dedup(settings: Settings, *, store: ObjectStore | None = None) -> DedupReport:
    """Cluster every committed article into stories and write a dedup generation."""
    from pipeline.dedup import find_duplicates

    store = store or open_store(settings)
    ids = batch_ids(store)
    if not ids:
        return DedupReport(None, 0)
    generation = dedup_zone.generation_id_for(ids)
    articles = read_articles(store)
    result = find_duplicates(articles, settings)
    dedup_zone.write_generation(store, generation, list(result.assignments.values()), result.edges, result.counts)
    log.info("dedup %s: %d articles, %s", generation, len(articles), result.counts)
    return DedupReport(generation, len(articles), dict(result.counts))
