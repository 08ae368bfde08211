"""Ingestion's side of revisions and takedowns (issue 19): decide, for every article a run
built, whether it is new, a new revision of an article already held, a trivial re-serve
(no revision), or taken down (a counted reject).

Before issue 19 an entry already stored (same feed and GUID) was skipped for good, so a
corrected article was **ignored**; with ``--force``, or when a new GUID resolved to a
canonical URL already held, the new version was written as a new batch row and the
warehouse upsert **overwrote** the old one silently.  Now:

* an entry already held is looked at again when the feed serves it changed (its entry
  hash: normalised title and text plus its ``updated`` date, ``pipeline.extract.revisions``)
  and the feed state has not already seen that exact entry;
* the rebuilt article is compared by its normalised content fingerprint with the current
  version: equal means a trivial change (whitespace, tracking parameters, a time stamp)
  and nothing is written; different means a new row with ``revision`` + 1, its kind
  (update, correction, retraction) and a diff summary.  The older row stays in its batch:
  nothing is overwritten without trace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pipeline.extract.revisions import fingerprint, summarize, to_json
from pipeline.lake.articles import read_current
from pipeline.lake.store import ObjectStore
from pipeline.lake.tombstones import REASON, Tombstones
from pipeline.models import Article, Entry, Reject

log = logging.getLogger(__name__)
TAKEDOWN_DETAIL = "the article was taken down (see `newsflow takedown list`); it is never stored again"


@dataclass
class RevisionCounts:
    revised: int = 0  # new revisions stored
    unchanged: int = 0  # re-served with no real change: no revision
    older: int = 0  # an older version seen again (a replay of old raw bodies): already history
    taken_down: int = 0  # refused by a tombstone


def changed_entries(entries: list[Entry], by_entry: dict[tuple[str, str], dict]) -> list[Entry]:
    """Entries already held that the feed now serves differently (and that this feed's
    state has not seen in this exact form): candidates for a revision."""
    out = []
    for e in entries:
        row = by_entry.get((e.feed_url, e.guid))
        if row is None or not e.entry_hash or e.seen_before:
            continue
        if row.get("entry_hash") != e.entry_hash:
            out.append(e)
    return out


def refuse_entries(entries: list[Entry], stones: Tombstones, counts: RevisionCounts) -> tuple[list[Entry], list[Reject]]:
    """Entries whose link names a taken-down article: never fetched (a counted reject)."""
    if not stones:
        return entries, []
    keep, rejects = [], []
    for e in entries:
        if stones.blocks_url(e.link):
            rejects.append(Reject("feed", e.link or e.guid, REASON, TAKEDOWN_DETAIL))
            counts.taken_down += 1
        else:
            keep.append(e)
    return keep, rejects


def _fields(a: Article) -> dict:
    return {k: getattr(a, k) for k in ("title", "summary", "body_text", "authors", "published_at", "language",
                                        "translator", "original_outlet")}


def classify(store: ObjectStore, built: list[Article], current: dict[str, dict], stones: Tombstones,
             counts: RevisionCounts, *, force: bool = False) -> tuple[list[Article], list[Reject]]:
    """The articles to write (new ones, new revisions; with ``force`` also unchanged
    ones, at their current revision) and the rejects (taken down)."""
    keep: list[Article] = []
    rejects: list[Reject] = []
    for a in built:
        if not a.content_fingerprint:  # a backfill's workers computed it already
            a.content_fingerprint = fingerprint(a.title, a.body_text)
        if stones and stones.blocks(a.article_id, a.content_hash, a.canonical_url):
            rejects.append(Reject("normalize", a.url, REASON, TAKEDOWN_DETAIL))
            counts.taken_down += 1
        else:
            keep.append(a)
    held = [a.article_id for a in keep if a.article_id in current]
    need = [i for i in held if not current[i].get("content_fingerprint")
            or current[i]["content_fingerprint"] != next(a.content_fingerprint for a in keep if a.article_id == i)]
    full = read_current(store, need, current) if need else {}
    out: list[Article] = []
    for a in keep:
        old = current.get(a.article_id)
        if old is None:
            a.revision, a.revision_kind = 1, "first"
            out.append(a)
            continue
        row = full.get(a.article_id)
        old_fp = old.get("content_fingerprint") or (fingerprint(row["title"], row["body_text"]) if row else None)
        old_rev = int(old.get("revision") or 1)
        if old_fp == a.content_fingerprint:
            counts.unchanged += 1
            if force:  # a forced re-ingest rewrites the same revision, never a new one
                a.revision, a.revision_kind = old_rev, "first" if old_rev == 1 else "update"
                out.append(a)
            continue
        seen_at = old.get("fetched_at")
        if seen_at is not None and a.fetched_at is not None and a.fetched_at < seen_at:
            counts.older += 1  # a replay met an earlier version: it is history already, never current
            continue
        summary = summarize(row or {}, _fields(a))
        summary["previous_fingerprint"] = old_fp
        a.revision = old_rev + 1
        a.revision_kind = summary["kind"]
        a.revision_diff = to_json(summary)
        counts.revised += 1
        log.info("revision %d of %s (%s): %s", a.revision, a.article_id, a.revision_kind, summary["changed_fields"])
        out.append(a)
    return out, rejects
