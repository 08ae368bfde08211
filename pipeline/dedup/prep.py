"""Per-article matching material, computed once per run and shared by every stage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pipeline.extract.anchors import extract_anchors
from pipeline.extract.textnorm import normalize_for_matching
from pipeline.models import Anchor, Article

SHINGLE_WORDS = 5


def shingle_list(norm_text: str, k: int = SHINGLE_WORDS) -> list[str]:
    """Word k-shingles of normalised text in text order; a text shorter than k words is
    one shingle."""
    words = norm_text.split()
    if not words:
        return []
    if len(words) <= k:
        return [" ".join(words)]
    return [" ".join(words[i : i + k]) for i in range(len(words) - k + 1)]


@dataclass
class Prepared:
    """An article plus what matching needs; ``eligible`` is False for too-short texts."""

    article: Article
    norm: str
    norm_hash: str
    eligible: bool
    _anchors: list[Anchor] | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.article.article_id

    def shingle_sequence(self) -> list[str]:
        return shingle_list(self.norm) if self.eligible else []

    @property
    def anchors(self) -> list[Anchor]:
        """The article's own anchors when the extractor filled them, else computed here."""
        if self._anchors is None:
            a = self.article
            self._anchors = list(a.anchors) or extract_anchors(a.body_text or "", a.language)
        return self._anchors


def prepare(article: Article, min_text_chars: int) -> Prepared:
    norm = normalize_for_matching(article.body_text or "")
    digest = hashlib.sha256(norm.encode("utf-8")).hexdigest()
    return Prepared(article, norm, digest, len(norm) >= min_text_chars)
