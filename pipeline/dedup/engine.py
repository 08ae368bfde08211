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
from pipeline.dedup.encoder import Encoder, encoder_chain
from pipeline.dedup.exact import exact_evidence
from pipeline.dedup.index import index_articles
from pipeline.dedup.match import ANCHOR_MIN_SHARED, match
from pipeline.dedup.near import shingle_overlap
from pipeline.dedup.prep import prepare
from pipeline.dedup.verify import verify_pair
from pipeline.models import Article, DedupAssignment, DedupEdge


@dataclass
class DedupResult:
    edges: list[DedupEdge] = field(default_factory=list)
    assignments: dict[str, DedupAssignment] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


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


def cluster_edges(meta: Mapping[str, object], edges: list[DedupEdge]) -> DedupResult:
    """Stories from edges; ``meta`` maps id -> anything with the ``Article`` fields the
    canonical choice reads (language, published_at, translator, original_outlet)."""
    edges = sorted(edges, key=lambda e: (e.a, e.b, e.kind))
    assignments, inside = cluster(meta, edges)
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
    return cluster_edges({d.id: d for d in docs}, edges)


class _NullEncoder:
    """Stands in when one language is present: no translation stage runs."""

    name = "none"
    dim = 1
    languages = frozenset()

    def encode(self, texts):  # pragma: no cover - never called with encode=False
        raise RuntimeError("no encoder loaded")


def explain_pair(a: Article, b: Article, settings: Settings,
                 encoder: Encoder | None = None) -> dict:
    """Every measure for one pair with its threshold and the decision (JSON-serialisable)."""
    pa, pb = prepare(a, settings.min_text_chars), prepare(b, settings.min_text_chars)
    same_lang = a.language == b.language
    out: dict = {
        "a": a.article_id,
        "b": b.article_id,
        "languages": [a.language, b.language],
        "source_domains": [a.source_domain, b.source_domain],
        "same_source": a.source_domain == b.source_domain,
        "guard": {
            "normalized_chars": [len(pa.norm), len(pb.norm)],
            "min_text_chars": settings.min_text_chars,
            "eligible": pa.eligible and pb.eligible,
        },
        "exact": exact_evidence(pa, pb),
    }
    decision = {"duplicate": False, "kind": None, "score": None, "reason": "no stage matched"}
    if any(out["exact"].values()):
        decision = {"duplicate": True, "kind": "exact", "score": 1.0, "reason": "exact identity"}
    if same_lang:
        ov = shingle_overlap(pa.shingles, pb.shingles)
        ok = pa.eligible and pb.eligible and (
            ov["jaccard"] >= settings.near_jaccard or ov["containment"] >= settings.near_containment)
        out["near"] = {**ov, "jaccard_threshold": settings.near_jaccard,
                       "containment_threshold": settings.near_containment, "accepted": ok}
        if ok and not decision["duplicate"]:
            decision = {"duplicate": True, "kind": "near",
                        "score": max(ov["jaccard"], ov["containment"]),
                        "reason": "shingle overlap above threshold"}
    elif pa.eligible and pb.eligible:
        chain = chain_for(settings, encoder)
        da, db = index_articles([a, b], chain[0], min_text_chars=settings.min_text_chars,
                                lsh_threshold=settings.lsh_threshold, num_perm=settings.minhash_perm)
        da, db = (da, db) if da.id == a.article_id else (db, da)
        ev = verify_pair(da, db, chain, settings)
        days = abs((a.published_at - b.published_at).total_seconds()) / 86400
        ev["days_apart"] = round(days, 3)
        ev["window_days"] = settings.dedup_window_days
        shared = ev["anchors"]["numeric_shared"] + ev["anchors"]["names_shared"]
        anchored = shared >= ANCHOR_MIN_SHARED and ev["encoder_tier"] != "primary"
        ev["candidate"] = days <= settings.dedup_window_days and (
            ev["doc_cosine"] >= settings.translation_candidate_cosine or anchored)
        ev["accepted"] = ev["accepted"] and ev["candidate"]
        out["translation"] = ev
        if ev["accepted"] and not decision["duplicate"]:
            decision = {"duplicate": True, "kind": "translation", "score": ev["share"],
                        "reason": ev["reason"]}
    if not out["guard"]["eligible"] and decision["kind"] != "exact":
        decision["reason"] = "text shorter than min_text_chars: never matched by content"
    out["decision"] = decision
    return out
