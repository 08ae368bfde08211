"""Article batches in the lake: write one, read the current view of all of them."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pyarrow as pa

from pipeline.lake.batches import BatchManifest, list_batches, read_batch, write_batch
from pipeline.lake.integrity import CorruptFile
from pipeline.lake.schema import REJECT_SCHEMA, articles_to_table, table_to_articles, with_version
from pipeline.lake.store import ObjectStore
from pipeline.models import Article, Reject

KIND = "articles"


def write_articles(store: ObjectStore, batch_id: str, articles: list[Article]) -> BatchManifest:
    for a in articles:
        a.batch_id = batch_id
    table = articles_to_table(sorted(articles, key=lambda a: a.article_id))
    return write_batch(store, KIND, batch_id, table, date_column="published_at",
                       meta={"articles": len(articles)})


def write_rejects(store: ObjectStore, run_ts: datetime, rejects: list[Reject]) -> BatchManifest:
    """Keep a run's rejects in the lake so every front door (CLI, Airflow) can load them."""
    rows = sorted(({"stage": r.stage, "url": r.url, "reason": r.reason, "detail": r.detail, "run_ts": run_ts} for r in rejects),
                  key=lambda r: (r["stage"], r["url"], r["reason"]))
    digest = hashlib.sha256(repr([(r["stage"], r["url"], r["reason"]) for r in rows]).encode()).hexdigest()[:12]
    table = pa.Table.from_pylist(rows, schema=with_version(REJECT_SCHEMA, "rejects"))
    return write_batch(store, "rejects", f"{run_ts:%Y%m%dT%H%M%SZ}-{digest}", table)


def read_articles_table(store: ObjectStore, batch_ids: list[str] | None = None) -> pa.Table | None:
    """All committed article rows; for an id stored twice the latest batch wins.

    A batch with an unreadable file is quarantined and skipped (logged with file and
    batch), so one bad file never stops a run; asked for by id, it still raises.
    """
    manifests = [m for m in list_batches(store, KIND) if batch_ids is None or m.batch_id in batch_ids]
    tables = []
    for m in manifests:
        try:
            tables.append(read_batch(store, m))
        except CorruptFile:
            if batch_ids is not None:
                raise
    if not tables:
        return None
    table = pa.concat_tables(tables)
    # keep the last occurrence of each article_id (batches are read oldest first)
    ids = table["article_id"].to_pylist()
    last = {aid: i for i, aid in enumerate(ids)}
    keep = sorted(last.values())
    return table.take(pa.array(keep)).sort_by("article_id")


def read_articles(store: ObjectStore, batch_ids: list[str] | None = None) -> list[Article]:
    table = read_articles_table(store, batch_ids)
    return [] if table is None else table_to_articles(table)


def known_entries(store: ObjectStore) -> set[tuple[str, str]]:
    """(feed_url, guid) of every stored article: entries the ingest stage can skip."""
    table = read_articles_table(store)
    if table is None:
        return set()
    cols = table.select(["feed_url", "guid"]).to_pylist()
    return {(c["feed_url"], c["guid"]) for c in cols}


def batch_ids(store: ObjectStore) -> list[str]:
    return [m.batch_id for m in list_batches(store, KIND)]


__all__ = ["write_articles", "read_articles", "read_articles_table", "known_entries", "batch_ids"]
