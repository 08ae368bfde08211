"""The dedup entry points: ``find_duplicates`` for a set of articles, ``explain_pair`` for two.

``find_duplicates`` is the incremental engine run with nothing known: it indexes every
article (``pipeline.dedup.index``), matches them as one new batch
(``pipeline.dedup.match``) and clusters the edges (``pipeline.dedup.cluster``).  The lake
stage (``pipeline.dedup.stage``) runs the very same matcher batch by batch against the
persisted index, so both front doors decide every pair by one rule.
Nothing is dropped: every article gets an assignment, duplicates are only marked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.config import Settings
from pipeline.dedup.cluster import cluster
from pipeline.dedup.corrections import Correction, cut, violated
from pipeline.dedup.corrections import apply as apply_corrections
from pipeline.dedup.encoder import Encoder, encoder_chain
from pipeline.dedup.index import IndexedDoc, index_articles
from pipeline.dedup.match import candidates, match
from pipeline.dedup.prep import prepare
from pipeline.dedup.verify import verify
from pipeline.models import Article, DedupAssignment, DedupEdge


@dataclass
class DedupResult:
    edges: list[DedupEdge] = field(default_factory=list)
    assignments: dict[str, DedupAssignment] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    docs: list[IndexedDoc] = field(default_factory=list, repr=False)
    chain: list = field(default_factory=list, repr=False)
    settings: Settings | None = field(default=None, repr=False)
    _cand: dict | None = field(default=None, repr=False)

    def explain(self, a_id: str, b_id: str) -> dict:
        """``explain_docs`` + ``story_path`` over this result's own corpus and stories."""
        if self._cand is None:
            self._cand = candidates(self.docs, len(self.docs), self.chain, self.settings)
        out = explain_docs(self.docs, len(self.docs), a_id, b_id, self.chain, self.settings,
                           cand=self._cand)
        out["story"] = story_path(self, a_id, b_id)
        out["decision"]["same_story"] = out["story"]["same_story"]
        return out


def chain_for(settings: Settings, encoder: Encoder | None = None) -> list[Encoder]:
    """The encoder chain: ``encoder`` (tests, benches) first when given, then the
    configured ones that cover other languages."""
    names = [n.strip() for n in settings.dedup_encoders.split(",") if n.strip()] or ["use-m"]
    if encoder is None:
        return encoder_chain(names)
    rest = encoder_chain(names[1:]) if len(names) > 1 else []
    return [encoder] + [e for e in rest if e.name != encoder.name]


def _unique(articles: Sequence[Article]) -> list[Article]:
    unique: dict[str, Article] = {}
    for a in sorted(articles, key=lambda a: (a.article_id, a.canonical_url, a.fetched_at)):
        unique.setdefault(a.article_id, a)  # the same row twice is one article
    return list(unique.values())


def _needs_vectors(articles: Sequence[Article], settings: Settings) -> bool:
    langs = {a.language for a in articles if len(prepare(a, 0).norm) >= settings.min_text_chars}
    return len(langs) >= 2


def cluster_edges(meta: Mapping[str, object], edges: list[DedupEdge],
                  first_seen: Mapping[str, tuple] | None = None,
                  corrections: Sequence[Correction] = ()) -> DedupResult:
    """Stories from edges; ``meta`` maps id -> anything with the ``Article`` fields the
    canonical choice reads (language, published_at, translator, original_outlet);
    ``first_seen`` orders articles by arrival for stable story ids; editors'
    ``corrections`` (``pipeline.dedup.corrections``) win over the edges."""
    if corrections:
        edges = apply_corrections(edges, corrections, {k: getattr(v, "language", "") for k, v in meta.items()})
    edges = sorted(edges, key=lambda e: (e.a, e.b, e.kind))
    assignments, inside = cluster(meta, edges, first_seen)
    for _ in range(len(corrections)):  # a split-off article may still reach them via other copies
        story_of = {k: a.story_id for k, a in assignments.items()}
        bad = violated(story_of, corrections)
        if not bad:
            break
        edges = cut(edges, bad, corrections, story_of)
        assignments, inside = cluster(meta, edges, first_seen)
    for e in edges:
        e.evidence["in_story"] = (e.a, e.b) in inside
    counts = {"exact": 0, "near": 0, "translation": 0}
    stories: dict[str, int] = {}
    for asg in assignments.values():
        if asg.dup_kind:
            counts[asg.dup_kind] += 1
        stories[asg.story_id] = stories.get(asg.story_id, 0) + 1
    counts["stories"] = len(stories)
    counts["multi_article_stories"] = sum(1 for n in stories.values() if n > 1)
    return DedupResult(edges, assignments, counts)


def find_duplicates(articles: Sequence[Article], settings: Settings,
                    encoder: Encoder | None = None) -> DedupResult:
    """Edges, story assignments and counts for ``articles`` (any order, same result).

    Encoders are loaded only when long-enough articles in two or more languages exist.
    """
    arts = _unique(articles)
    vectors = _needs_vectors(arts, settings)
    chain = chain_for(settings, encoder) if vectors else [_NullEncoder()]
    docs = index_articles(arts, chain[0], min_text_chars=settings.min_text_chars,
                          lsh_threshold=settings.lsh_threshold, num_perm=settings.minhash_perm,
                          encode=vectors)
    edges = match(docs, [], chain, settings)
    result = cluster_edges({d.id: d for d in docs}, edges)
    result.docs, result.chain, result.settings = docs, chain, settings
    return result


class _NullEncoder:
    """Stands in when one language is present: no translation stage runs."""

    name = "none"
    dim = 1
    languages = frozenset()

    def encode(self, texts):  # pragma: no cover - never called with encode=False
        raise RuntimeError("no encoder loaded")


def explain_docs(docs: Sequence[IndexedDoc], n_new: int, a_id: str, b_id: str,
                 chain: Sequence[Encoder], settings: Settings, load=None,
                 cand: Mapping | None = None) -> dict:
    """The pipeline's own decision for one pair: exact identities, whether the candidate
    indexes propose it, and ``verify`` (the matcher's rule, with every measure).
    ``docs[:n_new]`` are the documents that were new when the pair was matched;
    ``cand`` reuses candidates already computed over the same ``docs``."""
    pos = {d.id: k for k, d in enumerate(docs)}
    i, j = pos[a_id], pos[b_id]
    a, b = sorted((docs[i], docs[j]), key=lambda d: d.id)
    if load is not None:
        load([d for d in (a, b) if d.sentences is None or d.shingle_seq is None])
    exact = {"same_canonical_url": bool(a.canonical_url) and a.canonical_url == b.canonical_url,
             "same_guid_same_source": bool(a.guid) and (a.source_domain, a.guid) == (b.source_domain, b.guid),
             "same_text_hash": a.eligible and b.eligible and a.norm_hash == b.norm_hash}
    if cand is None:
        cand = candidates(docs, n_new, chain, settings, load)
    key = (min(i, j), max(i, j))
    out: dict = {"a": a.id, "b": b.id, "languages": [a.language, b.language],
                 "source_domains": [a.source_domain, b.source_domain],
                 "published_at": [str(a.published_at), str(b.published_at)],
                 "eligible": [a.eligible, b.eligible], "min_text_chars": settings.min_text_chars,
                 "exact": exact, "candidate_sources": list(cand.get(key, []))}
    if any(exact.values()):
        out["edge"] = {"kind": "exact", "accepted": True, "score": 1.0, "reason": "exact identity"}
    elif not (a.eligible and b.eligible):
        out["edge"] = {"kind": None, "accepted": False,
                       "reason": "text shorter than min_text_chars: never matched by content"}
    else:
        ev = verify(a, b, chain, settings, full=True)
        if not out["candidate_sources"]:
            ev = {**ev, "accepted": False,
                  "reason": "not proposed by any candidate index (" + ev["reason"] + ")"}
        out["edge"] = ev
    edge = out["edge"]
    out["decision"] = {"duplicate": bool(edge["accepted"]),
                       "kind": edge["kind"] if edge["accepted"] else None,
                       "score": edge.get("score"), "reason": edge["reason"]}
    return out


def story_path(result: DedupResult, a_id: str, b_id: str) -> dict:
    """Whether two articles share a story and, if so, the chain of in-story edges that
    links them (a copy reached only through another copy shows that path)."""
    sa, sb = result.assignments.get(a_id), result.assignments.get(b_id)
    same = sa is not None and sb is not None and sa.story_id == sb.story_id
    out: dict = {"story_a": sa.story_id if sa else None, "story_b": sb.story_id if sb else None,
                 "same_story": same}
    if not same or a_id == b_id:
        return out
    adj: dict[str, list[DedupEdge]] = {}
    for e in result.edges:
        if e.evidence.get("in_story"):
            adj.setdefault(e.a, []).append(e)
            adj.setdefault(e.b, []).append(e)
    prev: dict[str, DedupEdge | None] = {a_id: None}
    queue = [a_id]
    while queue and b_id not in prev:
        nxt = []
        for x in queue:
            for e in sorted(adj.get(x, []), key=lambda e: (e.a, e.b)):
                y = e.b if e.a == x else e.a
                if y not in prev:
                    prev[y] = e
                    nxt.append(y)
        queue = nxt
    path, x = [], b_id
    while prev.get(x) is not None:
        e = prev[x]
        path.append({"a": e.a, "b": e.b, "kind": e.kind, "score": e.score})
        x = e.a if e.b == x else e.b
    out["path"] = path[::-1]
    out["direct"] = len(path) == 1
    return out


def explain_pair(a: Article, b: Article, settings: Settings, encoder: Encoder | None = None,
                 corpus: Sequence[Article] = ()) -> dict:
    """Explain two articles as the pipeline would judge them among ``corpus`` (default:
    just the two).  JSON-serialisable."""
    arts = _unique([a, b, *corpus])
    result = find_duplicates(arts, settings, encoder)
    return result.explain(a.article_id, b.article_id)
