"""Exact copies — same canonical URL, same guid within a source, same text (explain side;
matching runs in ``pipeline.dedup.match.exact_edges`` over the persisted index).

Text identity is the hash of ``normalize_for_matching(body_text)``, so copies that differ
only in invisible characters, diacritics or digit scripts are still exact.  URL and guid
identity are identity of the *item*, so they hold even for short texts; the text hash
only links texts long enough to be an article (short ones are boilerplate or empty).
"""

from __future__ import annotations

from pipeline.dedup.prep import Prepared


def exact_evidence(a: Prepared, b: Prepared) -> dict:
    """Which identities two articles share (for explain)."""
    return {
        "same_canonical_url": bool(a.article.canonical_url)
        and a.article.canonical_url == b.article.canonical_url,
        "same_guid_same_source": bool(a.article.guid)
        and (a.article.source_domain, a.article.guid) == (b.article.source_domain, b.article.guid),
        "same_text_hash": a.eligible and b.eligible and a.norm_hash == b.norm_hash,
    }
