"""The dedup entry points: ``find_duplicates`` for a batch, ``explain_pair`` for two.

Stages run in order (exact, near, translation), each skipping pairs an earlier stage
already linked, then ``pipeline.dedup.cluster`` turns accepted edges into stories.
Nothing is dropped: every article gets an assignment, duplicates are only marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.config import Settings
from pipeline.dedup.cluster import cluster
from pipeline.dedup.encoder import Encoder, get_encoder
from pipeline.dedup.exact import exact_edges, exact_evidence
from pipeline.dedup.near import near_decision, near_edges, shingle_overlap
from pipeline.dedup.prep import Prepared, prepare
from pipeline.dedup.translation import embed, translation_edges, verify
from pipeline.models import Article, DedupAssignment, DedupEdge


@dataclass
class DedupResult:
    edges: list[DedupEdge] = field(default_factory=list)
    assignments: dict[str, DedupAssignment] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _prepare_all(articles: Sequence[Article], settings: Settings) -> list[Prepared]:
    unique: dict[str, Article] = {}
    for a in sorted(articles, key=lambda a: (a.article_id, a.canonical_url, a.fetched_at)):
        unique.setdefault(a.article_id, a)  # the same row twice is one article
    return [prepare(a, settings.min_text_chars) for a in unique.values()]


def find_duplicates(articles: Sequence[Article], settings: Settings,
                    encoder: Encoder | None = None) -> DedupResult:
    """Edges, story assignments and counts for ``articles`` (any order, same result).

    The encoder is loaded only when long-enough articles in two or more languages exist.
    """
    docs = _prepare_all(articles, settings)
    edges = exact_edges(docs)
    linked = {(e.a, e.b) for e in edges}
    edges += near_edges(docs, settings, skip=linked)
    linked |= {(e.a, e.b) for e in edges}
    if len({d.article.language for d in docs if d.eligible}) >= 2:
        enc = encoder or get_encoder()
        edges += [e for e in translation_edges(docs, enc, settings) if (e.a, e.b) not in linked]
    edges.sort(key=lambda e: (e.a, e.b, e.kind))
    by_id = {d.id: d.article for d in docs}
    assignments, inside = cluster(by_id, edges)
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
        ok = pa.eligible and pb.eligible and near_decision(ov, settings)
        out["near"] = {**ov, "jaccard_threshold": settings.near_jaccard,
                       "containment_threshold": settings.near_containment, "accepted": ok}
        if ok and not decision["duplicate"]:
            decision = {"duplicate": True, "kind": "near",
                        "score": max(ov["jaccard"], ov["containment"]),
                        "reason": "shingle overlap above threshold"}
    elif pa.eligible and pb.eligible:
        enc = encoder or get_encoder()
        ea, eb = embed([pa, pb], enc)
        ev = verify(ea, eb, enc, settings)
        days = abs((a.published_at - b.published_at).total_seconds()) / 86400
        ev["days_apart"] = round(days, 3)
        ev["window_days"] = settings.dedup_window_days
        ev["candidate"] = (days <= settings.dedup_window_days
                           and ev["doc_cosine"] >= settings.translation_candidate_cosine)
        ev["accepted"] = ev["accepted"] and ev["candidate"]
        out["translation"] = ev
        if ev["accepted"] and not decision["duplicate"]:
            decision = {"duplicate": True, "kind": "translation", "score": ev["share"],
                        "reason": ev["reason"]}
    if not out["guard"]["eligible"] and decision["kind"] != "exact":
        decision["reason"] = "text shorter than min_text_chars: never matched by content"
    out["decision"] = decision
    return out
