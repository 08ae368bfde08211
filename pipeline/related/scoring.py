"""Related-article scoring: multilingual embeddings, TF-IDF text, shared anchors, recency.

Lists are kept per story canonical, over other stories' canonicals only, so a copy or a
translation of the article can never be offered and each other story appears at most once
(``select`` also drops same-story and repeated-story candidates defensively).  At serving
time a related story is shown through its member in the reader's language
(``sql/<backend>/related_for.sql``).

Every component is symmetric and depends on the two articles only (recency decays with the
gap between their publication times, never with "now"), so a stored score stays valid and
a new article's score against an old one is also the old one's score against it: that is
what lets the incremental refresh update existing lists without recomputing them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.config import Settings
from pipeline.extract.textnorm import normalize_for_matching

_TOKEN = re.compile(r"\w{3,}", re.UNICODE)
MAX_TERMS = 48  # the strongest terms of a document are enough for a cosine over candidates


@dataclass
class Doc:
    """What scoring needs of one canonical article (kept in the lake between refreshes)."""

    article_id: str
    story_id: str
    language: str
    languages: tuple[str, ...]  # languages of the story's members (readers of this list)
    days: float  # publication time in days since the epoch
    anchors: frozenset[str] = frozenset()
    terms: dict[str, float] = field(default_factory=dict)  # term -> 1 + log(tf)


@dataclass(frozen=True)
class RelatedRow:
    article_id: str
    related_id: str
    rank: int
    score: float
    score_embedding: float
    score_text: float
    score_anchors: float
    score_recency: float


@dataclass(frozen=True)
class Scored:
    related_id: str
    score: float
    embedding: float
    text: float
    anchors: float
    recency: float


def doc_text(title: str | None, body: str | None) -> str:
    """The text an article's terms are weighted from (title and lead)."""
    return f"{title or ''}. {(body or '')[:800]}"


def fallback_text(title: str | None, summary: str | None, body: str | None) -> str:
    """What the related stage embeds for an article dedup stored no vector for (too short
    for dedup): its title and the longer of summary and body, as a lead.  A teaser-only
    entry whose page came back empty still has its feed summary."""
    lead = max((body or "", summary or ""), key=len)
    return doc_text(title, lead)


def terms_of(text: str) -> dict[str, float]:
    counts = Counter(_TOKEN.findall(normalize_for_matching(text)))
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS]
    return {t: 1.0 + math.log(c) for t, c in top}


class TextModel:
    """TF-IDF cosine over documents' stored term weights with current document frequencies."""

    def __init__(self, df: Mapping[str, int], n_docs: int) -> None:
        self.df, self.n = df, max(n_docs, 1)
        self._norms: dict[str, dict[str, float]] = {}

    def idf(self, term: str) -> float:
        return math.log((1 + self.n) / (1 + self.df.get(term, 0)))

    def weighted(self, doc: Doc) -> dict[str, float]:
        """The document's unit-length TF-IDF vector (cached for this refresh)."""
        v = self._norms.get(doc.article_id)
        if v is None:
            raw = {t: w * self.idf(t) for t, w in doc.terms.items()}
            norm = math.sqrt(sum(x * x for x in raw.values())) or 1.0
            v = {t: x / norm for t, x in raw.items()}
            self._norms[doc.article_id] = v
        return v

    def forget(self, article_id: str) -> None:
        self._norms.pop(article_id, None)

    def similarity(self, a: Doc, b: Doc) -> float:
        wa, wb = self.weighted(a), self.weighted(b)
        small, big = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
        return sum(x * big[t] for t, x in small.items() if t in big)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def score_pair(a: Doc, b: Doc, cosine: float, text: TextModel, settings: Settings) -> Scored:
    """The hybrid score of ``b`` as related to ``a`` (symmetric), with its components."""
    emb = min(max(cosine, 0.0), 1.0)
    txt = text.similarity(a, b)
    anc = jaccard(a.anchors, b.anchors)
    recency = math.exp(-abs(a.days - b.days) * math.log(2) / settings.related_half_life_days)
    we, wt, wa = settings.related_weight_embedding, settings.related_weight_text, settings.related_weight_anchors
    if a.language != b.language and we + wa > 0:
        # words never match across languages: weigh what can (the vectors and the anchors)
        base = (we * emb + wa * anc) * (we + wt + wa) / (we + wa)
    else:
        base = we * emb + wt * txt + wa * anc
    return Scored(b.article_id, round(base * (0.75 + 0.25 * recency), 6), round(emb, 6), round(txt, 6),
                  round(anc, 6), round(recency, 6))


def select(target: Doc, pool: Iterable[Scored], docs: Mapping[str, Doc], settings: Settings) -> list[Scored]:
    """The stored list of ``target``: its top ``related_k`` plus, for each language its
    story is read in, the best ``related_per_language`` stories that have a member in that
    language (so a reader is offered own-language articles first even when the overall top
    is in another language).  One entry per other story; never the target's own story."""
    best: dict[str, Scored] = {}
    for s in pool:
        d = docs.get(s.related_id)
        if d is None or d.story_id == target.story_id or s.related_id == target.article_id:
            continue
        cur = best.get(d.story_id)
        if cur is None or (s.score, cur.related_id) > (cur.score, s.related_id):
            best[d.story_id] = s
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.related_id))
    keep = {s.related_id for s in ranked[: settings.related_k]}
    for lang in target.languages:
        picked = [s for s in ranked if lang in docs[s.related_id].languages][: settings.related_per_language]
        keep.update(s.related_id for s in picked)
    return [s for s in ranked if s.related_id in keep]


def to_rows(article_id: str, items: Sequence[Scored]) -> list[RelatedRow]:
    return [RelatedRow(article_id, s.related_id, rank, s.score, s.embedding, s.text, s.anchors, s.recency)
            for rank, s in enumerate(items, start=1)]
