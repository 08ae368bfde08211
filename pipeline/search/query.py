"""How a search runs in the engine, for :meth:`pipeline.search.index.Reader.search`:
:func:`plan` makes the query of its terms (their union, and for a query that mixes rare and
common terms an exact shortcut to the union's best hits), and :func:`top` walks the engine's
hits into the deterministic order (score, newest, article id).

Terms are ``(field, term, document frequency)``, read from the one searcher the whole search
uses; the shortcut's floor holds for that searcher's statistics only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

# a query term in more than this share of the documents is "common" (plan); any share gives
# the same answer: it only decides when the shortcut is tried (bench/warehouse_bench.py
# queries at 1M: 0.05, 0.1, 0.2 and 0.3 measured, docs/warehouse.md)
COMMON_TERM_SHARE = 0.1


@dataclass(frozen=True)
class EngineHit:
    article_id: str
    story_id: str | None
    score: float
    published: int | None  # epoch seconds
    stored: bytes | None = None  # the ``hit`` field: what a hit shows (``hit_fields`` reads it)


def plan(schema: Any, searcher: Any, terms: list[tuple[str, str, int]]) -> tuple[Any, Any, float | None]:
    """(union, fast, floor): the query of ``terms`` (field, term, document frequency),
    and when some are common, an exact shortcut to its best hits.

    Why: a term in a large share of the documents (at 1M, half of them hold "city") has a
    long posting list that block-max WAND does not prune in a union; such a query took
    8-11 ms against 0.3 ms without that term.  Lucene's CommonTermsQuery answers with the
    rare terms required and the common ones only adding to the score.  Here that query
    (``fast``) is a shortcut, never a change of meaning: a document holding only common
    terms scores below ``floor`` (the sum of their BM25 maxima, (K1 + 1) x idf), so hits
    of ``fast`` scoring above it are the union's best in the same order, with the same
    scores (each common term adds to one running sum, in the same nesting, in both
    queries).  :func:`top` falls back to ``union`` when it must go below ``floor``."""
    from tantivy import Occur, Query

    def term(field: str, t: str) -> Any:
        return Query.term_query(schema, field, t, index_option="freq")

    plain = Query.boolean_query([(Occur.Should, term(f, t)) for f, t, _ in terms]), None, None
    # the engine's N is never below num_docs: no term over the share of num_docs, none common
    if not any(df > COMMON_TERM_SHARE * searcher.num_docs for _, _, df in terms):
        return plain
    stats = _bm25_stats(searcher, term(*min(terms, key=lambda x: x[2])[:2]))  # the rarest term
    common = [x for x in terms if stats and x[2] > COMMON_TERM_SHARE * stats[0]]
    rare = [x for x in terms if x not in common]
    if not common or not rare:
        return plain
    rare_q = Query.boolean_query([(Occur.Should, term(f, t)) for f, t, _ in rare])
    union, fast = rare_q, rare_q
    for f, t, _ in common:  # ((rare + c1) + c2) ... in both queries
        union = Query.boolean_query([(Occur.Should, union), (Occur.Should, term(f, t))])
        fast = Query.boolean_query([(Occur.Must, fast), (Occur.Should, term(f, t))])
    n, k1_plus_1 = stats
    floor = sum(k1_plus_1 * math.log(1 + (n - df + 0.5) / (df + 0.5)) for _, _, df in common)
    return union, fast, floor * (1 + 1e-4) + 1e-4  # a margin over float32 rounding


def _bm25_stats(searcher: Any, query: Any) -> tuple[float, float] | None:
    """(N, K1 + 1) as the engine's BM25 uses them with ``searcher``, read from its own
    explanation of ``query`` (one term) on its best hit: N counts deleted documents until a
    merge drops them, so ``num_docs`` is not it.  None when that cannot be read (the
    shortcut is then not taken; the answer is the same)."""
    found: dict[str, Any] = {}

    def walk(node: dict) -> None:
        found.setdefault(node.get("description", "").split(",")[0], node.get("value"))
        for child in node.get("details") or ():
            walk(child)

    try:
        addr = searcher.search(query, 1, count=False).hits[0][1]
        walk(json.loads(query.explain(searcher, addr).to_json()))
        return float(found["N"]), float(found["(K1+1)"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def top(searcher: Any, query: Any, limit: int, collapse: bool,
        when: tuple[int | None, int | None] | None = None, floor: float | None = None) -> list[EngineHit] | None:
    """The first ``limit`` hits by (score, newest, article id).  The engine ranks by
    score; walking its hits one group of equal score at a time, the publication dates
    come from a fast field for the groups taken, and stored documents are read only for
    what is returned (a whole group of equal score and date: the id orders it).  A group
    that reaches the end of what was fetched may go on: fetch more and walk again.

    ``when``: (from, before) epoch seconds: ``query`` is unfiltered, and only its hits in
    that range count; None when one fetch did not find enough of them.  ``floor``:
    ``query`` is the common-term shortcut (:func:`plan`), whose hits count only above
    that score; None when the answer needs hits at or below it.  ``searcher``: the one the
    whole search reads (the floor holds for its statistics only)."""
    # 3x: at 1M about half the queries had ties past limit + 10 and searched again
    # (1.9 against 2.1 ms a query; any start gives the same hits)
    fetch = limit * (4 if collapse else 3) + 10
    if when is not None:
        fetch *= 4
    while True:
        found = searcher.search(query, fetch, count=False).hits
        complete = len(found) < fetch or fetch >= MAX_FETCH
        hits: list[EngineHit] = []
        stories: set[str] = set()
        i, n = 0, len(found)
        while i < n and (len(stories) if collapse else len(hits)) < limit:
            score = found[i][0]
            if floor is not None and score <= floor:
                return None
            j = i + 1
            while j < n and found[j][0] == score:
                j += 1
            if j == n and not complete:
                break
            addrs = [a for _, a in found[i:j]]
            order = list(zip(searcher.fast_field_values("published", addrs), addrs, strict=True))
            if when is not None:
                lo, hi = when
                order = [(p, a) for p, a in order
                         if p is not None and (lo is None or p >= lo) and (hi is None or p < hi)]
            if len(order) > 1:  # newest first, undated last; then whole (score, date) groups while short
                order.sort(key=_newest)
            k = 0
            while k < len(order) and (len(stories) if collapse else len(hits)) < limit:
                end = k + 1
                while end < len(order) and order[end][0] == order[k][0]:
                    end += 1
                for pub, addr in order[k:end]:
                    d = searcher.doc(addr)
                    hit = EngineHit(d.get_first("article_id"), d.get_first("story_id"), float(score), pub,
                                    d.get_first("hit"))
                    hits.append(hit)
                    stories.add(hit.story_id or "\x00" + hit.article_id)
                k = end
            i = j
        else:
            if floor is not None and (len(stories) if collapse else len(hits)) < limit:
                return None  # the shortcut ran out: the rest of the union is below the floor
            hits.sort(key=_order)
            return (_collapse(hits) if collapse else hits)[:limit]
        if when is not None:
            return None
        fetch *= 4


def _newest(c: tuple) -> float:
    return -c[0] if c[0] is not None else float("inf")


MAX_FETCH = 20_000  # candidates read at most (a query whose top is all ties stops here)


def _order(h: EngineHit) -> tuple:
    return (-h.score, -(h.published if h.published is not None else float("-inf")), h.article_id)


def _collapse(hits: list[EngineHit]) -> list[EngineHit]:
    seen: set[str] = set()
    out = []
    for h in hits:
        key = h.story_id or "\x00" + h.article_id
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out
