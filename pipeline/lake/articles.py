"""Article batches in the lake: write one, read the current view of all of them."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pyarrow as pa

from pipeline.lake.batches import Batch, list_batches, read_batches, write_batch
from pipeline.lake.schema import (
    ARTICLE_SCHEMA,
    REJECT_SCHEMA,
    articles_to_table,
    table_to_articles,
    with_version,
)
from pipeline.lake.store import ObjectStore
from pipeline.models import Article, Reject

KIND = "articles"


def write_articles(store: ObjectStore, batch_id: str, articles: list[Article], stones=None) -> Batch:
    """Commit ``articles`` as one batch.  ``stones`` (``pipeline.lake.tombstones``): read
    again here, at write time, so an article taken down while its run was in flight is
    left out even when the run checked the tombstones before (issue 19)."""
    from pipeline.lake import tombstones

    stones = tombstones.load(store) if stones is None else stones
    if stones:
        articles = [a for a in articles if not stones.blocks(a.article_id, a.content_hash, a.canonical_url)]
    for a in articles:
        a.batch_id = batch_id
    table = articles_to_table(sorted(articles, key=lambda a: a.article_id))
    return write_batch(store, KIND, batch_id, table, meta={"articles": len(articles)})


def write_rejects(store: ObjectStore, run_ts: datetime, rejects: list[Reject]) -> Batch:
    """Keep a run's rejects in the lake so every front door (CLI, Airflow) can load them."""
    rows = sorted(({"stage": r.stage, "url": r.url, "reason": r.reason, "detail": r.detail, "run_ts": run_ts} for r in rejects),
                  key=lambda r: (r["stage"], r["url"], r["reason"]))
    digest = hashlib.sha256(repr([(r["stage"], r["url"], r["reason"]) for r in rows]).encode()).hexdigest()[:12]
    table = pa.Table.from_pylist(rows, schema=with_version(REJECT_SCHEMA, "rejects"))
    return write_batch(store, "rejects", f"{run_ts:%Y%m%dT%H%M%SZ}-{digest}", table)


def as_article_schema(table: pa.Table) -> pa.Table:
    """The table's article columns in ``ARTICLE_SCHEMA`` order and types (a column added
    to the schema later reads as null for rows written before: Delta schema evolution)."""
    n = table.num_rows
    cols = [table[f.name].cast(f.type) if f.name in table.column_names else pa.nulls(n, f.type)
            for f in ARTICLE_SCHEMA]
    return pa.Table.from_arrays(cols, schema=ARTICLE_SCHEMA)


def read_articles_table(store: ObjectStore, batch_ids: list[str] | None = None, *,
                        version: int | None = None) -> pa.Table | None:
    """All committed article rows (of ``batch_ids``) from one snapshot; for an id stored
    twice the latest batch wins.  Quarantined batches are left out (logged with file and
    batch), so one bad file never stops a run."""
    if batch_ids is not None and not batch_ids:
        return None
    table = read_batches(store, KIND, batch_ids, version=version)
    if table is None or not table.num_rows:
        return None
    table = as_article_schema(table)
    table = table.sort_by([("batch_id", "ascending"), ("article_id", "ascending")])
    # keep the last occurrence of each article_id (oldest batch first)
    ids = table["article_id"].to_pylist()
    last = {aid: i for i, aid in enumerate(ids)}
    keep = sorted(last.values())
    return table.take(pa.array(keep)).sort_by("article_id")


def read_articles(store: ObjectStore, batch_ids: list[str] | None = None) -> list[Article]:
    table = read_articles_table(store, batch_ids)
    return [] if table is None else table_to_articles(table)


def known_entries(store: ObjectStore) -> set[tuple[str, str]]:
    """(feed_url, guid) of every stored article: entries the ingest stage can skip."""
    table = read_batches(store, KIND, columns=["feed_url", "guid"])
    if table is None:
        return set()
    return set(zip(table["feed_url"].to_pylist(), table["guid"].to_pylist(), strict=True))


LIGHT = ["article_id", "feed_url", "guid", "revision", "entry_hash", "content_fingerprint", "fetched_at", "batch_id"]


def current_versions(store: ObjectStore) -> dict[str, dict]:
    """article_id -> the identity columns of its current (latest batch) row: what ingestion
    compares a re-served entry with (revisions, issue 19).  No text is read; quarantined
    batches are left out like everywhere (``read_batches``)."""
    t = read_batches(store, KIND, columns=LIGHT)
    if t is None:
        return {}
    out: dict[str, dict] = {}
    for row in t.to_pylist():  # oldest batch first: the latest wins
        out[row["article_id"]] = {c: row.get(c) for c in LIGHT}
    return out


def note_written(current: dict[str, dict], articles: list[Article]) -> None:
    """Update a ``current_versions`` map with the rows ``write_articles`` just committed
    (the ones it gave a ``batch_id``): a writer of many batches, like a backfill, then reads
    the map once instead of the whole lake again before every batch."""
    for a in articles:
        if a.batch_id:
            current[a.article_id] = {c: getattr(a, c) for c in LIGHT}


def read_current(store: ObjectStore, article_ids: list[str], current: dict[str, dict] | None = None) -> dict[str, dict]:
    """The full current rows of ``article_ids`` (the latest batch of each), as dicts; only
    the batches holding them are read."""
    import pyarrow.compute as pc

    if not article_ids:
        return {}
    current = current if current is not None else current_versions(store)
    batches = sorted({current[a]["batch_id"] for a in article_ids if a in current})
    t = read_batches(store, KIND, batches) if batches else None
    if t is None or not t.num_rows:
        return {}
    t = as_article_schema(t.filter(pc.is_in(t["article_id"], pa.array(sorted(set(article_ids)), pa.string()))))
    out: dict[str, dict] = {}
    for row in t.to_pylist():
        out[row["article_id"]] = row
    return out


def batch_ids(store: ObjectStore) -> list[str]:
    return [m.batch_id for m in list_batches(store, KIND)]


__all__ = ["write_articles", "read_articles", "read_articles_table", "known_entries", "batch_ids",
           "as_article_schema", "current_versions", "note_written", "read_current"]
