"""Stage 5: story clusters from accepted edges, with a guard against weak chains.

Union-find alone lets a chain of edges drift from one story into another (A~B, B~C,
C~D => one story, though A and D share nothing).  So a cluster of more than two members
keeps only the members that reach its canonical copy directly, or through one member
that does (a translation of a reprint, an excerpt of a translation: two hops at most)
and whose own text is mostly what they share with it (``mostly_shared``).
Members that fail are clustered again among themselves, by the same rule.  Before
that, translation edges that are not the best match of both their ends are set aside
(``unspecific_translations``): they join different articles on the same event.

Story ids are stable (``cluster``); the canonical copy is the earliest article in the story's original language,
preferring articles that carry no attribution (translator / original outlet) and
languages that no member was translated *into*; ties by article_id.  Inputs are sorted
first, so any input order gives the same output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.models import Article, DedupAssignment, DedupEdge

STRONG_NEAR = 0.9
SPECIFIC_RATIO = 0.9  # a translation edge must align >= this share of its end's best one
MEMBER_SHARE = 0.4  # a two-hop member shares >= this share of its text with the middle (as near_min_share)
KIND_RANK = {"exact": 3, "near": 2, "translation": 1}

Pair = tuple[str, str]


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def best_edges(edges: Iterable[DedupEdge]) -> dict[Pair, DedupEdge]:
    """One edge per pair: the strongest kind, then the highest score."""
    out: dict[Pair, DedupEdge] = {}
    for e in edges:
        key = _pair(e.a, e.b)
        cur = out.get(key)
        if cur is None or (KIND_RANK[e.kind], e.score) > (KIND_RANK[cur.kind], cur.score):
            out[key] = e
    return out


def is_strong(e: DedupEdge | None) -> bool:
    return e is not None and (e.kind == "exact" or (e.kind == "near" and e.score >= STRONG_NEAR))


def _components(ids: Iterable[str], pairs: Iterable[Pair]) -> list[list[str]]:
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in sorted(pairs):
        if a in parent and b in parent:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for i in sorted(parent):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def mostly_shared(e: DedupEdge, m: str) -> bool:
    """Is most of article ``m``'s own text the text its edge ``e`` shares (``m`` a copy,
    excerpt or translation of the other end), rather than a longer article that holds the
    other end as one passage?

    Why: membership through a middle article (two hops) is for a translation of a reprint
    or an excerpt of a translation.  A short excerpt or teaser X of story A is also inside
    any longer article B that quotes that passage; then A - X - B made B a member of A's
    story although the check of B against A itself had found only "a quoted passage".  On
    the headline bench at 300 articles (real sentences) such chains put a same-event
    article and four unrelated ones into other stories: B shared 8-11 % of its text with X.
    So a two-hop member must share at least ``MEMBER_SHARE`` of its text (in the edge's
    own units) with the middle.  Edges without a region (exact copies) and editors' links
    pass."""
    region = e.evidence.get("region")
    if not region or "editor" in e.evidence:
        return True
    units = region.get("units_a" if m == e.a else "units_b")
    if not units:
        return True
    return (region.get("aligned", 0) + region.get("filled", 0)) / units >= MEMBER_SHARE


def _strength(e: DedupEdge) -> float:
    return float(e.evidence.get("region", {}).get("aligned", 0))


def _credits(e: DedupEdge, by: str, to: str) -> bool:
    """Does article ``by`` credit the outlet of article ``to`` (the edge's attribution)?"""
    attr = e.evidence.get("attribution", {})
    return bool(attr.get("a_credits_b") if (by, to) == (e.a, e.b) else attr.get("b_credits_a"))


def unspecific_translations(best: Mapping[Pair, DedupEdge], language: Mapping[str, str],
                            outlet: Mapping[str, str | None] | None = None,
                            published: Mapping[str, Any] | None = None) -> dict[Pair, dict]:
    """Translation edges that are not (near) the best match of both their ends.

    Different articles on one event paraphrase the same statement, so an Arabic article
    can align 3-4 sentences with several English ones.  Its true original aligns better
    than those (or is a copy of the one that does).  So, per article and other language,
    an edge is kept when it aligns at least ``SPECIFIC_RATIO`` of that article's best
    edge into that language, or leads into the best one's family of exact/near copies;
    an edge must pass at both ends.  At an *original's* end, an edge from an article
    that credits its outlet is exempt (two newspapers may each translate one original);
    at the crediting article's own end it is not: a credit names an outlet, not an
    article, and that outlet's other stories (wire templates differing only in names and
    figures) align a few sentences with the translation too, whereas a translation has
    one original, its best match.

    ``outlet`` (article -> source domain): an article's edges into one other outlet lead
    into one family only, the best match's (ties: the one it credits, then the earliest
    published, then the id).  Why: one outlet's articles that are not copies of each other
    but align equally with one text are runs of its template (the guard in ``verify``
    kept them apart); a translation that dropped the figures aligns with every run alike
    and, kept, joined them all (the headline bench at 1,000 articles: ten runs of one
    Arabic wire template through one abridged English translation).  Several outlets may
    each translate one original: across outlets the ratio rule stays.  Returns the
    failing pairs and why."""
    fam = {x: i for i, comp in enumerate(_components(
        {y for p in best for y in p}, [p for p, e in best.items() if e.kind != "translation"]))
        for x in comp}
    by_end: dict[tuple[str, str], list[tuple[float, str, Pair]]] = {}
    for p, e in best.items():
        if e.kind == "translation":
            for x, y in (p, p[::-1]):
                by_end.setdefault((x, language[y]), []).append((_strength(e), y, p))
    out: dict[Pair, dict] = {}
    outlets, when = outlet or {}, published or {}
    for (x, _lang), partners in sorted(by_end.items()):
        top = max(s for s, _, _ in partners)
        best_fams = {fam[y] for s, y, _ in partners if s == top}
        tops = sorted(y for s, y, _ in partners if s == top)
        for s, y, p in partners:
            credited = _credits(best[p], y, x) or "editor" in best[p].evidence  # an editor said so
            if s < SPECIFIC_RATIO * top and fam[y] not in best_fams and p not in out and not credited:
                out[p] = {"at": x, "aligned": s, "best": tops[0], "best_aligned": top}
        same_outlet: dict[str, list[tuple[float, str, Pair]]] = {}
        for s, y, p in partners:
            if outlets.get(y):
                same_outlet.setdefault(outlets[y], []).append((s, y, p))
        kept: dict[int, tuple[float, str, Pair]] = {}
        dropped: set[int] = set()
        for group in same_outlet.values():
            fams = {fam[y] for _, y, _ in group}
            if len(fams) < 2:
                continue
            keep = min(group, key=lambda t: (-t[0], not _credits(best[t[2]], x, t[1]),
                                             when.get(t[1]) is None, when.get(t[1]) or 0, t[1]))
            kept[fam[keep[1]]] = keep
            dropped |= fams
        dropped -= set(kept)
        for s, y, p in partners:  # the whole family goes, copies at other outlets too
            if fam[y] in dropped and p not in out and "editor" not in best[p].evidence:
                keep = min(kept.values(), key=lambda t: t[1])
                out[p] = {"at": x, "aligned": s, "same_outlet_best": keep[1], "best_aligned": keep[0]}
    return out


def choose_canonical(members: list[Article]) -> Article:
    translated_into = {m.language for m in members if m.translator}

    def key(m: Article) -> tuple:
        attributed = bool(m.translator or m.original_outlet)
        return (attributed, m.language in translated_into, m.published_at, m.article_id)

    return min(members, key=key)


def _resolve(members: list[str], arts: Mapping[str, Article],
             edges: Mapping[Pair, DedupEdge]) -> list[tuple[str, list[str]]]:
    """(canonical, members) stories for one connected component."""
    canon = choose_canonical([arts[m] for m in members]).article_id
    if len(members) <= 2:
        return [(canon, members)]
    next_to_canon = {x for x in members if _pair(x, canon) in edges}
    kept, failed = [], []
    for m in members:
        ok = m == canon or _pair(m, canon) in edges or any(
            (e := edges.get(_pair(m, x))) is not None and mostly_shared(e, m) for x in next_to_canon if x != m
        )
        (kept if ok else failed).append(m)
    stories = [(canon, kept)]
    if failed:
        failed_set = set(failed)
        inner = [p for m in failed for x in members if x in failed_set and m < x
                 and (p := _pair(m, x)) in edges]
        for comp in _components(failed, inner):
            stories += _resolve(comp, arts, edges)
    return stories


def cluster(articles: Mapping[str, Article], edges: Iterable[DedupEdge],
            first_seen: Mapping[str, tuple] | None = None
            ) -> tuple[dict[str, DedupAssignment], set[Pair]]:
    """Assignments for every article, and the edge pairs that ended up inside a story.

    A story's id is ``s_`` + the id of its *first-seen* member (``first_seen`` orders
    articles by arrival, e.g. (batch id, article id); by article id without it), not of
    its canonical: copies joining, an earlier original arriving later, or a rule change
    that re-picks the canonical leave the id alone.  When stories merge, the one whose
    first member arrived first keeps its id (the stage records the other as an alias)."""
    order = first_seen or {}
    best = best_edges(edges)
    weak = unspecific_translations(best, {k: getattr(v, "language", "") for k, v in articles.items()},
                                   {k: getattr(v, "source_domain", None) for k, v in articles.items()},
                                   {k: getattr(v, "published_at", None) for k, v in articles.items()})
    for p, why in weak.items():
        best[p].evidence["unspecific"] = why
    best = {p: e for p, e in best.items() if p not in weak}
    adjacent: dict[str, list[DedupEdge]] = {}
    for (a, b), e in sorted(best.items()):
        adjacent.setdefault(a, []).append(e)
        adjacent.setdefault(b, []).append(e)
    assignments: dict[str, DedupAssignment] = {}
    inside: set[Pair] = set()
    for comp in _components(articles, best):
        for canon, members in _resolve(comp, articles, best):
            story = "s_" + min(members, key=lambda m: (order.get(m, ("",)), m))
            member_set = set(members)
            for m in sorted(members):
                if m == canon:
                    assignments[m] = DedupAssignment(m, story, None, None, None)
                    continue
                own = [e for e in adjacent.get(m, []) if e.a in member_set and e.b in member_set]
                inside.update(_pair(e.a, e.b) for e in own)
                direct = best.get(_pair(m, canon))
                top = direct or max(own, key=lambda e: (KIND_RANK[e.kind], e.score, e.a, e.b))
                kind = top.kind
                if articles[m].language != articles[canon].language:
                    kind = "translation"
                elif kind == "translation":
                    kind = "near"  # same language as the original, reached through a copy
                assignments[m] = DedupAssignment(m, story, canon, kind, round(top.score, 4))
    return assignments, inside
