"""The pipeline's stages after ingest, each reading the previous stage's durable output.

The CLI and the Airflow DAGs call these same functions: one code path, two front doors.
Every stage takes ``run_ts`` from its caller (the CLI's start time or the DAG run's logical
date) instead of reading the clock, so a rerun writes the same keys and rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from pipeline.config import Settings
from pipeline.lake import dedup_zone
from pipeline.lake.articles import batch_ids, read_articles, read_articles_table
from pipeline.lake.batches import list_batches, read_batch
from pipeline.lake.store import ObjectStore, open_store

log = logging.getLogger(__name__)


@dataclass
class DedupReport:
    generation_id: str | None
    articles: int
    counts: dict = field(default_factory=dict)


@dataclass
class LoadReport:
    batches_loaded: int
    rows_loaded: int
    dedup_generation: str | None
    search_indexed: bool


@dataclass
class RelatedReport:
    canonicals: int
    rows: int


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


def load_warehouse(
    settings: Settings, *, run_ts: datetime, store: ObjectStore | None = None
) -> LoadReport:
    """Merge committed article batches and the latest dedup generation into the warehouse."""
    from pipeline.extract.textnorm import normalize_for_matching
    from pipeline.warehouse import duckdb_backend as wh

    store = store or open_store(settings)
    batches = rows = 0
    with wh.connect(settings) as conn:
        wh.migrate(conn)
        done = wh.loaded_batches(conn, "articles")
        for manifest in list_batches(store, "articles"):
            if manifest.batch_id in done:
                continue
            rows += wh.load_articles(conn, manifest.batch_id, read_batch(store, manifest), run_ts)
            batches += 1
        generation = dedup_zone.read_latest(store)
        if generation and generation.generation_id not in wh.loaded_batches(conn, "dedup"):
            wh.apply_dedup(conn, generation.generation_id, generation.assignments, generation.edges, run_ts)
        indexed = False
        if batches:
            table = read_articles_table(store)
            docs = pa.table({
                "article_id": table["article_id"],
                "language": table["language"],
                "doc": [normalize_for_matching(f"{t}\n{b}") for t, b in zip(table["title"].to_pylist(), table["body_text"].to_pylist(), strict=True)],
            })
            indexed = wh.rebuild_search(conn, docs)
        done_rejects = wh.loaded_batches(conn, "rejects")
        for manifest in list_batches(store, "rejects"):
            if manifest.batch_id not in done_rejects:
                wh.load_rejects(conn, manifest.batch_id, read_batch(store, manifest), run_ts)
    log.info("load: batches=%d rows=%d dedup=%s", batches, rows, generation and generation.generation_id)
    return LoadReport(batches, rows, generation and generation.generation_id, indexed)


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
