"""Remove a taken-down article's content from every lake store (``newsflow takedown``).

What "everywhere in the lake" means here, and how:

* **Delta tables** (``articles``, dedup edges and assignments, ``related_lists``, and the
  article's rows in ``rejects`` / ``fetch_attempts``): a Delta ``delete`` rewrites the
  current files that hold the article's rows (copy-on-write: the other rows of those files
  are written again, so no consumer loses them; every consumer reads the current
  version).  Then every data file of the table that the current version no longer
  references and that still holds the article (older snapshots, the files the delete just
  removed) is deleted at once: a vacuum with retention 0 *for those files only*.  Files of
  older snapshots that never held the article are left to the normal vacuum, which keeps
  what a consumer has not read (``pipeline.lake.maintenance``).  Time travel to a version
  that referenced a deleted file fails for that file: that is the erasure.
* **raw zone**: the article's page bodies and their fetch records are deleted; a feed
  body that carried the entry is rewritten without that item (``<item>``/``<entry>``, JSON
  Feed item), stored under its new content hash, and its records re-pointed at it.
* **dedup index** objects holding the article are rewritten without its row (the batch's
  other articles stay indexed); the **related state** (``related/``) is
  deleted whole and rebuilt by the next refresh (its term statistics mix every document).

Everything here is idempotent: a second purge of the same tombstones finds nothing.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.lake import raw, tables
from pipeline.lake.store import ObjectStore
from pipeline.lake.tombstones import Tombstone, Tombstones, needles_for, redact_feed

log = logging.getLogger(__name__)

# kind -> columns naming an article (by id) or its URL
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "articles": ("article_id",),
    "dedup-batch-edges": ("a", "b"),
    "dedup-edges": ("a", "b"),
    "dedup-assignments": ("article_id", "duplicate_of"),
    "related-lists": ("article_id", "related_id"),
}
URL_COLUMNS: dict[str, tuple[str, ...]] = {"rejects": ("url",), "fetch_attempts": ("url", "final_url")}


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(set(values)))


def _predicate(cols: tuple[str, ...], values: set[str]) -> str:
    return " OR ".join(f"{c} IN ({_sql_list(values)})" for c in cols)


def _holds(table: pa.Table, cols: tuple[str, ...], values: set[str]) -> bool:
    import pyarrow.compute as pc

    arr = pa.array(sorted(values), pa.string())
    return any(c in table.column_names and pc.any(pc.is_in(table[c].cast(pa.string()), arr)).as_py()
               for c in cols)


def purge_table(store: ObjectStore, kind: str, cols: tuple[str, ...], values: set[str]) -> dict[str, int]:
    """Delete the rows naming ``values`` from ``kind`` and every unreferenced file holding them."""
    from deltalake import ColumnProperties, WriterProperties

    out = {"rows": 0, "files_deleted": 0}
    dt = tables.open_table(store, kind)
    if dt is None or not values:
        return out
    present = [c for c in cols if c in {f.name for f in dt.schema().fields}]
    if not present:
        return out
    current = tables.read(store, kind, columns=present)
    if current is not None and _holds(current, tuple(present), values):
        props = WriterProperties(compression="SNAPPY", column_properties={
            c: ColumnProperties(statistics_enabled="NONE") for c in tables.NO_STATS})
        m = tables._call(f"{kind} takedown delete", store, dt.delete, _predicate(tuple(present), values),
                         writer_properties=props)
        out["rows"] = int(m.get("num_deleted_rows", 0) or 0)
    live = {f["path"] for f in tables.files(store, kind)}
    base = tables.table_key(kind) + "/"
    for key in list(store.list(base)):
        rel = key[len(base):]
        if rel.startswith("_delta_log/") or not rel.endswith(".parquet") or rel in live:
            continue
        try:
            t = pq.read_table(io.BytesIO(store.get(key)), columns=None)
        except FileNotFoundError:
            continue
        if _holds(t, tuple(present), values):
            store.delete(key)
            out["files_deleted"] += 1
    return out


def purge_raw(store: ObjectStore, stones: Tombstones, extra: Iterable[str] = ()) -> dict[str, int]:
    """Delete the articles' page bodies and records; rewrite feed bodies without them."""
    out = {"pages_deleted": 0, "feeds_rewritten": 0}
    needles = needles_for(stones, extra)
    by_sha: dict[str, list[tuple[str, dict]]] = {}
    for key in store.list("raw/fetches/"):
        if key.endswith(".json"):
            rec = json.loads(store.get(key))
            by_sha.setdefault(rec["sha256"], []).append((key, rec))
    for sha, recs in sorted(by_sha.items()):
        pages = [(k, r) for k, r in recs if r["kind"] != "feed"
                 and (stones.blocks_url(r["url"]) or stones.blocks_url(r.get("final_url")))]
        if pages:
            for k, _r in pages:
                store.delete(k)
            store.delete(raw.body_key(sha))
            out["pages_deleted"] += 1
            continue
        feeds = [(k, r) for k, r in recs if r["kind"] == "feed"]
        if not feeds:
            continue
        try:
            body = raw.load_body(store, sha)
        except FileNotFoundError:
            continue
        clean = redact_feed(body, needles)
        if clean == body:
            continue
        new = raw.store_redacted(store, clean, [r for _k, r in feeds], sorted(stones.ids))
        for k, r in feeds:
            store.delete(k)
            from datetime import datetime

            store.delete(raw.day_key(datetime.fromisoformat(r["fetched_at"]), r["url"], sha))
        if new != sha:
            store.delete(raw.body_key(sha))
        out["feeds_rewritten"] += 1
    return out


def purge_objects(store: ObjectStore, ids: set[str]) -> dict[str, int]:
    """Dedup index objects (and the vectors encoded later, ``dedup-sentvec/``, ``dedup-secvec/``)
    holding the articles are rewritten without their rows (the
    file's metadata, with its settings fingerprint, kept: the batch's other articles stay
    indexed); the related stage's state is deleted whole (rebuilt by the next refresh)."""
    import pyarrow.compute as pc

    out = {"index_objects_rewritten": 0, "related_objects_deleted": 0}
    for key in [*store.list("dedup-index/"), *store.list("dedup-sentvec/"), *store.list("dedup-secvec/")]:
        if not key.endswith(".parquet"):
            continue
        t = pq.read_table(io.BytesIO(store.get(key)))
        if not _holds(t, ("article_id",), ids):
            continue
        keep = t.filter(pc.invert(pc.is_in(t["article_id"], pa.array(sorted(ids), pa.string()))))
        sink = io.BytesIO()
        pq.write_table(keep, sink, compression="zstd")
        store.put(key, sink.getvalue())
        out["index_objects_rewritten"] += 1
    for key in list(store.list("related/")):
        store.delete(key)
        out["related_objects_deleted"] += 1
    return out


def purge(store: ObjectStore, stones: list[Tombstone], extra: Iterable[str] = ()) -> dict[str, object]:
    """Remove every lake trace of the articles of ``stones``; a summary per store."""
    if not stones:
        return {}
    ts = Tombstones(stones)
    ids = ts.ids
    summary: dict[str, object] = {}
    for kind, cols in ID_COLUMNS.items():
        summary[tables.table_name(kind)] = purge_table(store, kind, cols, ids)
    for kind, cols in URL_COLUMNS.items():
        summary[tables.table_name(kind)] = purge_table(store, kind, cols, ts.urls)
    summary["raw"] = purge_raw(store, ts, extra)
    summary["objects"] = purge_objects(store, ids)
    log.info("takedown: lake purged for %s: %s", sorted(ids), summary)
    return summary


def enforce(store: ObjectStore, before: Tombstones) -> Tombstones:
    """Called when a stage ends: tombstones written while it ran (a takedown requested
    during an Airflow run) are applied again to what the stage may have written meanwhile,
    so a write that raced the takedown never survives it.  Returns the current set."""
    from pipeline.lake import tombstones

    now = tombstones.load(store)
    new = [t for a, t in now.stones.items() if a not in before.stones]
    if new:
        log.warning("takedown requested during this stage: purging %s again", sorted(t.article_id for t in new))
        purge(store, new)
    return now
