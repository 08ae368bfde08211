"""A takedown in the warehouse (both backends): rows out, audit row in, bytes scrubbed.

:func:`apply` deletes the article from ``articles``, ``article_revisions``,
``article_links`` and ``related_articles``, clears ``duplicate_of`` where
copies pointed at it, records the ``takedowns`` audit row and a ``load_ledger`` row (kind
``takedown``: the API's version token moves, so its snapshot and response caches drop the
article and every ETag changes), all in one transaction.

:func:`scrub` then removes the deleted bytes from storage: DuckDB keeps deleted rows in
freed blocks of the file until they are reused (``CHECKPOINT`` and ``VACUUM`` do not
overwrite them; measured), so the file is rewritten (``COPY FROM DATABASE`` into a new
file, then an atomic rename) under the writers' lock.  PostgreSQL: ``VACUUM FULL`` of the
affected tables writes new heap and TOAST files without the dead tuples.  What no
database command reaches (PostgreSQL WAL segments and filesystem blocks the old files
occupied, backups) is listed in docs/operations.md.

The load stage calls :func:`apply` too, for tombstones the warehouse does not have yet
(a takedown requested while the warehouse was unreachable, or during a load).  The search
index follows the ``takedowns`` table: its next sync (``pipeline.search.sync``, run by the
takedown itself and by every load) rebuilds it without the article.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from pipeline.config import Settings
from pipeline.lake.tombstones import Tombstone
from pipeline.warehouse.backend import Backend, backend_name, open_backend

log = logging.getLogger(__name__)


def taken_down(be: Backend) -> set[str]:
    """Article ids the warehouse has applied a takedown for (empty before migration 016)."""
    try:
        return {r["article_id"] for r in be.query("takedown_ids")}
    except Exception:  # no takedowns table yet: nothing taken down here
        return set()


def apply(be: Backend, stones: list[Tombstone], summary: dict | None = None) -> list[str]:
    """Delete the articles of ``stones`` and record each takedown; returns the ids applied."""
    if not stones:
        return []
    with be.transaction():
        be.lock("takedown")
        for t in stones:
            be.script("takedown_delete", {"article_id": t.article_id})
        for t in stones:
            at = datetime.fromisoformat(t.requested_at)
            be.execute("takedown_record", {
                "takedown_id": t.takedown_id, "article_id": t.article_id, "url": t.url,
                "canonical_url": t.canonical_url, "content_hashes": ",".join(t.content_hashes),
                "reason": t.reason, "requested_by": t.requested_by, "requested_at": at,
                "summary": json.dumps(summary or t.purged or {}, sort_keys=True)})
            be.record_batch("takedown", t.takedown_id, 1, at)
    log.info("takedown: warehouse rows of %s deleted", [t.article_id for t in stones])
    return [t.article_id for t in stones]


def scrub(settings: Settings) -> str:
    """Remove deleted rows' bytes from the warehouse's storage; says what was done."""
    if backend_name(settings) == "postgres":
        with open_backend(settings) as be:
            be.script("takedown_vacuum")  # autocommit: VACUUM runs outside a transaction
        return "VACUUM FULL of the affected tables"
    if settings.duckdb_path == ":memory:":
        return "in-memory database: nothing on disk"
    # DuckDB keeps deleted rows' bytes in freed blocks: the file is rewritten without them,
    # by the same code as `newsflow warehouse compact` (new file, row counts checked, atomic rename)
    from pipeline.warehouse.compact import compact_warehouse

    report = compact_warehouse(settings)
    fts = "; the fts index (a snapshot that held the text) was not copied" if report.fts_dropped else ""
    return f"DuckDB file rewritten without freed blocks (compact){fts}"
