"""Atomic, idempotent merges into the warehouse, identical for both backends.

Each function merges one unit (a lake batch, a dedup generation, a run's rejects, the
related lists) and records it in ``load_ledger`` in the same transaction: a failure rolls
the whole unit back, and a unit already in the ledger is skipped by the caller.  Rows are
upserted by key, so loading the same batch twice changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import pyarrow as pa

from pipeline.warehouse.backend import Backend
from pipeline.warehouse.takedown import taken_down

log = logging.getLogger(__name__)

T = TypeVar("T")


def with_retry(be: Backend, fn: Callable[[], T], *, attempts: int = 5) -> T:
    """Run ``fn`` (one transaction) again after a transient conflict (deadlock, races)."""
    for n in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if n == attempts - 1 or not be.is_busy_error(exc):
                raise
            log.warning("warehouse conflict, retrying (%d): %s", n + 1, exc)
            time.sleep(0.05 * 2**n)
    raise AssertionError("unreachable")


def load_articles(be: Backend, batch_id: str, table: pa.Table, loaded_at: datetime,
                  stories: pa.Table | None = None) -> int:
    """Upsert one lake batch of articles; ledger it; all or nothing.

    ``stories``: the dedup generation this load applies next (:func:`story_columns`); new
    articles are inserted with their story columns already set.  Returns the rows merged, or
    0 when another loader merged this batch first.  The search index follows from the ledger
    after the load (``pipeline.search.sync``).
    """
    table = unique_by(table, ("article_id",), "article")  # one row per key, or the upsert aborts
    table = with_stories(anchors_as_json(table), stories)

    revisions = revisions_table(table)

    def run() -> int:
        with be.transaction():
            be.lock(f"articles:{batch_id}")  # PostgreSQL: two loaders of one batch take turns
            if batch_id in be.loaded_batches("articles"):
                return 0
            gone = taken_down(be)  # read in the transaction: a takedown never comes back (issue 19)
            rows, revs = (_without(t, gone) for t in (table, revisions))
            be.stage("staged_articles", rows, like="articles")
            be.script("upsert_articles")
            be.stage("staged_revisions", revs, like="article_revisions")
            be.script("revisions_upsert")
            be.record_batch("articles", batch_id, table.num_rows, loaded_at)
        return table.num_rows

    return with_retry(be, run)


def _without(table: pa.Table, ids: set[str]) -> pa.Table:
    if not ids or not table.num_rows:
        return table
    import pyarrow.compute as pc

    return table.filter(pc.invert(pc.is_in(table["article_id"], pa.array(sorted(ids), pa.string()))))


REVISIONS_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("revision", pa.int32()), ("batch_id", pa.string()),
    ("observed_at", pa.timestamp("us", tz="UTC")), ("kind", pa.string()), ("content_fingerprint", pa.string()),
    ("previous_fingerprint", pa.string()), ("changed_fields", pa.string()), ("sentences_added", pa.int32()),
    ("sentences_removed", pa.int32()), ("similarity", pa.float64()), ("diff_excerpt", pa.string()),
])


def revisions_table(table: pa.Table) -> pa.Table:
    """``article_revisions`` rows of a lake batch: one per article version it holds (the
    first version too, so the table is the article's whole history).  ``observed_at`` is
    the version's fetch time, from the data (issue 19).  Columns are taken whole; only the
    rare rows with a diff are parsed one by one (a per-row pass cost 56 ms per 1,000 rows
    of a bulk load)."""
    import json

    import pyarrow.compute as pc

    n, cols = table.num_rows, set(table.column_names)

    def col(name: str, typ: pa.DataType) -> pa.Array:
        return pc.cast(table[name], typ).combine_chunks() if name in cols else pa.nulls(n, typ)

    raw = col("revision_diff", pa.string())
    has = pc.fill_null(pc.and_(pc.is_valid(raw), pc.not_equal(raw, "{}")), False)
    has = pc.and_(has, pc.not_equal(pc.fill_null(raw, ""), ""))
    at = pc.indices_nonzero(has).to_pylist()
    parsed = {i: json.loads(raw[i].as_py()) for i in at}
    parsed = {i: d for i, d in parsed.items() if d}

    def from_diff(key: str, typ: pa.DataType, convert=lambda v: v) -> pa.Array:
        values = [None] * n
        for i, d in parsed.items():
            values[i] = convert(d.get(key))
        return pa.array(values, typ)

    kind = pc.coalesce(col("revision_kind", pa.string()),
                       pa.array(["update" if i in parsed else "first" for i in range(n)], pa.string())
                       if parsed else pa.array(["first"] * n, pa.string()))
    return pa.table({
        "article_id": col("article_id", pa.string()),
        "revision": pc.fill_null(col("revision", pa.int32()), 1),
        "batch_id": col("batch_id", pa.string()),
        "observed_at": col("fetched_at", pa.timestamp("us", tz="UTC")),
        "kind": kind,
        "content_fingerprint": col("content_fingerprint", pa.string()),
        "previous_fingerprint": from_diff("previous_fingerprint", pa.string()),
        "changed_fields": from_diff("changed_fields", pa.string(), lambda v: ",".join(v or []) or None),
        "sentences_added": from_diff("sentences_added", pa.int32()),
        "sentences_removed": from_diff("sentences_removed", pa.int32()),
        "similarity": from_diff("similarity", pa.float64()),
        "diff_excerpt": from_diff("diff_excerpt", pa.string(), lambda v: v or None),
    }, schema=REVISIONS_SCHEMA)


DEDUP_COLUMNS = ("story_id", "duplicate_of", "dup_kind", "dup_score")


def story_columns(assignments: pa.Table | None) -> pa.Table | None:
    """A dedup generation's assignments as :func:`load_articles` takes them (one row per
    article), or None without a generation."""
    if assignments is None or not assignments.num_rows:
        return None
    return unique_by(assignments.select(["article_id", *DEDUP_COLUMNS]), ("article_id",), "assignment")


def with_stories(table: pa.Table, stories: pa.Table | None) -> pa.Table:
    """``table`` with the dedup columns of ``stories`` (NULL for articles it does not name).

    Why: a lake batch is normally loaded after dedup ran over it, so the generation the
    load applies next already names its articles' stories.  Inserting a row and then
    updating its story (``apply_dedup.sql``) wrote every new article twice: on PostgreSQL a
    dead row version per article (a quarter of the heap in the bench) and a ``search_queue``
    row to re-point in the index.  The upsert sets these columns on insert only: an article
    already present keeps its story until ``apply_dedup`` changes it."""
    import pyarrow.compute as pc

    table = table.drop_columns([c for c in DEDUP_COLUMNS if c in table.column_names])
    if stories is None:
        types = {"dup_score": pa.float64()}
        for c in DEDUP_COLUMNS:
            table = table.append_column(c, pa.nulls(table.num_rows, types.get(c, pa.string())))
        return table
    at = pc.index_in(table["article_id"], value_set=stories["article_id"])
    for c in DEDUP_COLUMNS:
        table = table.append_column(c, stories[c].take(at))
    return table


def anchors_as_json(table: pa.Table) -> pa.Table:
    """``anchors`` (a list of structs in the lake) as JSON text: a JSON column on both backends
    (migration 013), like ``article_links.evidence``.  Only non-empty lists go through
    ``json.dumps`` (one call per row cost 0.1 s per 10,000-row batch); empty ones are ``[]``."""
    if "anchors" not in table.column_names:
        return table
    import json

    import pyarrow.compute as pc

    col = table["anchors"].combine_chunks()
    full = pc.fill_null(pc.greater(pc.list_value_length(col), 0), False)
    text = pc.if_else(pc.is_null(col), pa.scalar(None, pa.string()), "[]")
    at = pc.indices_nonzero(full).to_pylist()
    if at:
        dumped = [json.dumps(v, ensure_ascii=False) for v in col.take(at).to_pylist()]
        text = pc.replace_with_mask(text, full, pa.array(dumped, pa.string()))
    return table.set_column(table.schema.get_field_index("anchors"), "anchors", text)


def unique_by(table: pa.Table, keys: tuple[str, ...], what: str) -> pa.Table:
    """Keep the last row per key: a batch or a dedup generation built over replayed input may
    repeat a key, which would otherwise abort the whole unit on a key conflict, every time."""
    if table.num_rows == 0:
        return table
    cols = [table[k].to_pylist() for k in keys]
    last = {key: i for i, key in enumerate(zip(*cols, strict=True))}
    if len(last) == table.num_rows:
        return table
    log.warning("load: %d repeated %s rows dropped (same key, the last one kept)", table.num_rows - len(last), what)
    return table.take(pa.array(sorted(last.values()), pa.int64()))


ALIAS_SCHEMA = pa.schema([("alias", pa.string()), ("story_id", pa.string())])


def clean_aliases(aliases: pa.Table) -> pa.Table:
    """The alias rows the warehouse can keep: one per alias (the last wins), no NULLs, no
    id aliased to itself.  Why: ``story_aliases.alias`` is a key and ``story_id`` NOT NULL,
    so one bad row would otherwise abort the whole generation on every retry; what is
    dropped is logged, never silent."""
    table = aliases.select(["alias", "story_id"]).cast(ALIAS_SCHEMA)
    pairs = [(a, s) for a, s in zip(table["alias"].to_pylist(), table["story_id"].to_pylist(), strict=True)
             if a and s and a != s]
    if len(pairs) < table.num_rows:
        log.warning("load: %d story alias rows without an alias or a target (or aliased to themselves) dropped",
                    table.num_rows - len(pairs))
    table = pa.table({"alias": pa.array([a for a, _ in pairs], pa.string()),
                      "story_id": pa.array([s for _, s in pairs], pa.string())})
    return unique_by(table, ("alias",), "story alias")


def apply_dedup(be: Backend, generation: str, assignments: pa.Table, edges: pa.Table, loaded_at: datetime,
                aliases: pa.Table | None = None) -> int:
    """Apply one dedup generation (story ids, links, stories and, when given, the story
    aliases) atomically; returns how many of its articles the warehouse does not hold yet.

    The aliases land in the same transaction as the stories they point to, so a reader never
    sees a merged story gone while its old id does not resolve yet.  ``aliases=None`` leaves
    ``story_aliases`` as it is (and unledgered for this generation).

    Applied to the articles present, so stories stay valid when a batch failed to load
    (issue 13); ledgered only when none is missing, so the next load applies it again once
    the failed batch is in (``sql/<backend>/apply_dedup.sql``).
    """
    assignments = unique_by(assignments, ("article_id",), "assignment")
    edges = unique_by(edges, ("a", "b", "kind"), "edge")
    alias_rows = clean_aliases(aliases) if aliases is not None else None

    def run() -> int:
        with be.transaction():
            be.lock("dedup")
            be.stage("staged_assignments", assignments)
            be.stage("staged_edges", edges)
            be.script("apply_dedup")
            missing = int(be.scalar("dedup_missing_articles") or 0)
            if alias_rows is not None:
                be.stage("staged_aliases", alias_rows)
                be.script("replace_story_aliases")
            if missing == 0:
                if alias_rows is not None:
                    be.record_batch("story_aliases", generation, alias_rows.num_rows, loaded_at)
                be.record_batch("dedup", generation, assignments.num_rows, loaded_at)
        if missing:
            log.warning("load: dedup generation %s applied to the articles present; %d of its articles "
                        "are not loaded yet, so it is applied again by the next load", generation, missing)
        return missing

    return with_retry(be, run)


def replace_story_aliases(be: Backend, generation: str, aliases: pa.Table, loaded_at: datetime) -> int:
    """Replace ``story_aliases`` with one generation's set and ledger it (kind
    ``story_aliases``), alone: for a generation whose stories were applied before the
    warehouse kept aliases (a warehouse migrated to 009 after the lake started writing
    them).  Returns the aliases kept."""
    rows = clean_aliases(aliases)

    def run() -> None:
        with be.transaction():
            be.lock("dedup")
            _replace_aliases(be, generation, rows, loaded_at)

    with_retry(be, run)
    return rows.num_rows


def _replace_aliases(be: Backend, generation: str, rows: pa.Table, loaded_at: datetime) -> None:
    be.stage("staged_aliases", rows)
    be.script("replace_story_aliases")
    be.record_batch("story_aliases", generation, rows.num_rows, loaded_at)


def load_rejects(be: Backend, batch_id: str, table: pa.Table, loaded_at: datetime) -> None:
    """Upsert one run's rejects (latest run wins per stage, URL and reason)."""

    def run() -> None:
        with be.transaction():
            be.stage("staged_rejects", table)
            be.execute("upsert_rejects")
            be.record_batch("rejects", batch_id, table.num_rows, loaded_at)

    with_retry(be, run)


def replace_related(be: Backend, table: pa.Table | None) -> int:
    """Replace every related list (``related_articles``) in one transaction."""
    empty = pa.table({"article_id": pa.array([], pa.string()), "related_id": pa.array([], pa.string()),
                      "rank": pa.array([], pa.int32()), "score": pa.array([], pa.float64())})
    table = table if table is not None else empty

    def run() -> None:
        with be.transaction():
            be.lock("related")
            be.stage("staged_related", table, like="related_articles")
            be.script("replace_related")

    with_retry(be, run)
    return table.num_rows


def load_corrections(be: Backend, records: list[dict]) -> int:
    """Mirror editors' story corrections (``pipeline.lake.corrections`` records) that the
    warehouse lacks; they are immutable, so an insert of the missing ones is the upsert."""
    if not records:
        return 0
    table = pa.table({
        "correction_id": [r["correction_id"] for r in records],
        "action": [r["action"] for r in records],
        "article_id": [r["article_id"] for r in records],
        "others": pa.array([list(r.get("others") or []) for r in records], pa.list_(pa.string())),
        "editor": [r["editor"] for r in records],
        "made_at": pa.array([datetime.fromisoformat(r["at"]) for r in records], pa.timestamp("us", tz="UTC")),
        "note": [r.get("note") or None for r in records],
    })

    def run() -> None:
        with be.transaction():
            be.stage("staged_corrections", table, like="story_corrections")
            be.script("insert_story_corrections")

    with_retry(be, run)
    return table.num_rows
