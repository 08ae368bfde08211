"""Stage 1: exact copies — same canonical URL, same guid within a source, same text.

Text identity is the hash of ``normalize_for_matching(body_text)``, so copies that differ
only in invisible characters, diacritics or digit scripts are still exact.  URL and guid
identity are identity of the *item*, so they hold even for short texts; the text hash
only links texts long enough to be an article (short ones are boilerplate or empty).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pipeline.dedup.prep import Prepared
from pipeline.models import DedupEdge


def _pairs(groups: dict[object, list[Prepared]]):
    for members in groups.values():
        if len(members) < 2:
            continue
        members = sorted(members, key=lambda p: p.id)
        first = members[0]
        for other in members[1:]:  # a star per group is enough for union-find
            yield first, other


def exact_edges(docs: Sequence[Prepared]) -> list[DedupEdge]:
    found: dict[tuple[str, str], dict] = {}

    def add(a: Prepared, b: Prepared, reason: str) -> None:
        if a.id == b.id:
            return
        key = (min(a.id, b.id), max(a.id, b.id))
        same_source = a.article.source_domain == b.article.source_domain
        ev = found.setdefault(key, {"reasons": [], "same_source": same_source})
        if reason not in ev["reasons"]:
            ev["reasons"].append(reason)

    by_url: dict[object, list[Prepared]] = defaultdict(list)
    by_guid: dict[object, list[Prepared]] = defaultdict(list)
    by_hash: dict[object, list[Prepared]] = defaultdict(list)
    for d in docs:
        a = d.article
        if a.canonical_url:
            by_url[a.canonical_url].append(d)
        if a.guid:
            by_guid[(a.source_domain, a.guid)].append(d)
        if d.eligible:
            by_hash[d.norm_hash].append(d)
    for reason, groups in (("canonical_url", by_url), ("guid", by_guid), ("text_hash", by_hash)):
        for a, b in _pairs(groups):
            add(a, b, reason)
    return [DedupEdge(a, b, "exact", 1.0, ev) for (a, b), ev in sorted(found.items())]


def exact_evidence(a: Prepared, b: Prepared) -> dict:
    """Which identities two articles share (for explain)."""
    return {
        "same_canonical_url": bool(a.article.canonical_url)
        and a.article.canonical_url == b.article.canonical_url,
        "same_guid_same_source": bool(a.article.guid)
        and (a.article.source_domain, a.article.guid) == (b.article.source_domain, b.article.guid),
        "same_text_hash": a.eligible and b.eligible and a.norm_hash == b.norm_hash,
    }
