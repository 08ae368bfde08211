"""Warehouse load stage: merge committed lake batches, rejects and the latest dedup generation."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from pipeline.config import Settings
from pipeline.lake import dedup_zone
from pipeline.lake.articles import read_articles_table
from pipeline.lake.batches import list_batches, read_batch
from pipeline.lake.store import ObjectStore, open_store

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    batches_loaded: int
    rows_loaded: int
    dedup_generation: str | None
    search_indexed: bool


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
