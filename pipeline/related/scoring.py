"""Related-article scoring: hybrid of multilingual embeddings, text, anchors and recency.

Lists are computed per story canonical, over other stories' canonicals only, so a copy or a
translation of the article can never be offered as related and each other story appears at
most once.  At serving time a related story is shown through its member in the reader's
language (``sql/duckdb/related_for.sql``).

This skeleton compares every pair of canonicals in one matrix product, which is fine for the
sample corpus; candidates from an ANN/search index come with the related-articles issue.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.config import Settings
from pipeline.dedup.encoder import Encoder, get_encoder
from pipeline.extract.anchors import anchor_keys
from pipeline.extract.textnorm import normalize_for_matching
from pipeline.models import Article

_TOKEN = re.compile(r"\w{3,}", re.UNICODE)


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


def _tfidf(docs: list[str]) -> np.ndarray:
    counts = [Counter(_TOKEN.findall(d)) for d in docs]
    df = Counter(t for c in counts for t in c)
    vocab = {t: i for i, t in enumerate(sorted(df))}
    n = len(docs)
    mat = np.zeros((n, len(vocab)), dtype=np.float32)
    for row, c in enumerate(counts):
        for t, k in c.items():
            mat[row, vocab[t]] = (1 + math.log(k)) * math.log((1 + n) / (1 + df[t]))
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    return mat / np.where(norms == 0, 1, norms)


def score_related(
    canonicals: Sequence[Article], settings: Settings, encoder: Encoder | None = None
) -> list[RelatedRow]:
    """Top ``settings.related_k`` related canonicals for every canonical article."""
    items = sorted(canonicals, key=lambda a: a.article_id)
    n = len(items)
    if n < 2:
        return []
    encoder = encoder or get_encoder()
    texts = [f"{a.title}. {a.body_text[:800]}" for a in items]
    emb = np.asarray(encoder.encode(texts), dtype=np.float32)
    sim_emb = np.clip(emb @ emb.T, 0, 1)
    tf = _tfidf([normalize_for_matching(t) for t in texts])
    sim_text = tf @ tf.T
    keys = [anchor_keys(a.anchors) for a in items]
    times = np.array([a.published_at.timestamp() for a in items]) / 86400.0
    rows: list[RelatedRow] = []
    for i, a in enumerate(items):
        recency = np.exp(-np.abs(times - times[i]) * math.log(2) / settings.related_half_life_days)
        anchors = np.array([_jaccard(keys[i], keys[j]) for j in range(n)], dtype=np.float32)
        base = (
            settings.related_weight_embedding * sim_emb[i]
            + settings.related_weight_text * sim_text[i]
            + settings.related_weight_anchors * anchors
        )
        score = base * (0.75 + 0.25 * recency)
        score[i] = -1.0
        order = sorted(range(n), key=lambda j: (-float(score[j]), items[j].article_id))
        for rank, j in enumerate([j for j in order if j != i][: settings.related_k], start=1):
            rows.append(RelatedRow(a.article_id, items[j].article_id, rank, round(float(score[j]), 6),
                                   round(float(sim_emb[i, j]), 6), round(float(sim_text[i, j]), 6),
                                   round(float(anchors[j]), 6), round(float(recency[j]), 6)))
    return rows


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
