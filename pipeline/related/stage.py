"""Related stage: recompute related lists for story canonicals into the warehouse."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pyarrow as pa

from pipeline.config import Settings
from pipeline.lake import dedup_zone
from pipeline.lake.articles import read_articles
from pipeline.lake.store import ObjectStore, open_store

log = logging.getLogger(__name__)


@dataclass
class RelatedReport:
    canonicals: int
    rows: int


def refresh_related(settings: Settings, *, store: ObjectStore | None = None) -> RelatedReport:
    """Recompute related lists for every story canonical and replace them in the warehouse."""
    from pipeline.related.scoring import score_related
    from pipeline.warehouse import duckdb_backend as wh

    store = store or open_store(settings)
    articles = read_articles(store)
    generation = dedup_zone.read_latest(store)
    dup_of = {}
    if generation:
        dup_of = dict(zip(generation.assignments["article_id"].to_pylist(), generation.assignments["duplicate_of"].to_pylist(), strict=True))
    canonicals = [a for a in articles if not dup_of.get(a.article_id)]
    rows = score_related(canonicals, settings)
    table = pa.Table.from_pylist([r.__dict__ for r in rows]) if rows else None
    with wh.connect(settings) as conn:
        wh.migrate(conn)
        conn.execute("BEGIN")
        conn.execute("DELETE FROM related_articles")
        if table is not None:
            conn.register("staged_related", table)
            conn.execute("INSERT INTO related_articles BY NAME SELECT * FROM staged_related")
        conn.execute("COMMIT")
    log.info("related: %d canonicals, %d rows", len(canonicals), len(rows))
    return RelatedReport(len(canonicals), len(rows))
