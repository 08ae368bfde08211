"""The one door through which a takedown removes articles from the search index.

Why one function: the search index is the SQL postings tables today (``search_docs``,
``search_postings``, statistics in ``search_stats``); it is being replaced by a tantivy
index.  Everything that must forget a document (``newsflow takedown``, the loads that
apply a tombstone) calls :func:`remove_documents`, so the switch re-points this function
and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.warehouse.backend import Backend


def remove_documents(be: Backend, article_ids: Iterable[str]) -> int:
    """Delete the articles' search documents and postings and refresh the corpus
    statistics, inside the caller's transaction; returns how many ids were given."""
    ids = sorted(set(article_ids))
    for article_id in ids:
        be.script("search_index_delete", {"article_id": article_id})
    if ids:
        be.script("rebuild_search")
    return len(ids)
