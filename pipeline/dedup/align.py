"""In-order alignment over the region two texts share: the core measure of dedup.

Real copies are partial: a teaser, an excerpt, an abridged translation, a reprint with
another intro and a trimmed end, two pages each stored from a different point.  A share
of the *whole* shorter text undercounts them, while another article on the same event
shares a few scattered sentences, out of order.  So both kinds of copy are judged the
same way:

1. matches between units (shingles for one language, sentences across languages);
2. the longest chain of matches increasing in both texts (``longest_increasing``);
3. the *region* the chain spans in each text, and its *coverage*: chain length over the
   shorter region.  A copy covers its region densely; a same-event article does not.

``Region`` keeps the unit indices, so evidence can name the exact passages.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

Match = tuple[int, int, float]


def longest_increasing(pairs: list[Match]) -> list[Match]:
    """Longest chain with strictly increasing i and j (``pairs`` sorted by i, i unique)."""
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(pairs)
    for k, (_i, j, _c) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_idx.append(k)
        else:
            tails[pos] = j
            tail_idx[pos] = k
        prev[k] = tail_idx[pos - 1] if pos else -1
    chain: list[Match] = []
    k = tail_idx[-1] if tail_idx else -1
    while k >= 0:
        chain.append(pairs[k])
        k = prev[k]
    return chain[::-1]


@dataclass(frozen=True)
class Region:
    """An in-order chain of matches and the spans it covers in both texts."""

    chain: tuple[Match, ...]
    len_a: int  # units in text a
    len_b: int

    @property
    def size(self) -> int:
        return len(self.chain)

    @property
    def span_a(self) -> tuple[int, int]:
        return (self.chain[0][0], self.chain[-1][0] + 1) if self.chain else (0, 0)

    @property
    def span_b(self) -> tuple[int, int]:
        return (self.chain[0][1], self.chain[-1][1] + 1) if self.chain else (0, 0)

    @property
    def shorter_span(self) -> int:
        (a0, a1), (b0, b1) = self.span_a, self.span_b
        return min(a1 - a0, b1 - b0)

    @property
    def coverage(self) -> float:
        """Share of the shorter region's units that are in the chain (1.0: dense copy)."""
        return round(self.size / self.shorter_span, 4) if self.chain else 0.0

    @property
    def share(self) -> float:
        """Share of the shorter *text* that the chain covers (the old, whole-text measure)."""
        return round(self.size / min(self.len_a, self.len_b), 4) if self.chain else 0.0

    @property
    def extent(self) -> float:
        """How much of the shorter text the shared region spans."""
        return round(self.shorter_span / min(self.len_a, self.len_b), 4) if self.chain else 0.0

    @property
    def mean_cosine(self) -> float:
        return round(sum(c for _, _, c in self.chain) / len(self.chain), 4) if self.chain else 0.0

    def evidence(self, threshold: float) -> float:
        """Sum over the chain of each match's cosine above ``threshold``."""
        return round(sum(c - threshold for _, _, c in self.chain), 4)

    def summary(self) -> dict:
        return {"aligned": self.size, "coverage": self.coverage, "share": self.share,
                "mean_cosine": self.mean_cosine,
                "extent": self.extent, "region_a": list(self.span_a), "region_b": list(self.span_b),
                "units_a": self.len_a, "units_b": self.len_b}


def sequence_region(a: np.ndarray, b: np.ndarray) -> Region:
    """In-order region of two hash sequences (ordered shingle hashes of one language).

    A unit of ``a`` matches the first occurrence of the same hash in ``b``; repeated
    hashes in ``a`` keep their first occurrence too, so ``i`` is unique."""
    if not len(a) or not len(b):
        return Region((), len(a), len(b))
    first_b: dict[int, int] = {}
    for j, h in enumerate(b.tolist()):
        first_b.setdefault(h, j)
    seen: set[int] = set()
    pairs: list[Match] = []
    for i, h in enumerate(a.tolist()):
        j = first_b.get(h)
        if j is not None and h not in seen:
            seen.add(h)
            pairs.append((i, j, 1.0))
    return Region(tuple(longest_increasing(pairs)), len(a), len(b))


def sentence_region(ma: np.ndarray, mb: np.ndarray, threshold: float) -> Region:
    """In-order region of mutual best sentence matches with cosine >= ``threshold``."""
    if not len(ma) or not len(mb):
        return Region((), len(ma), len(mb))
    sims = ma @ mb.T
    best_j = sims.argmax(axis=1)
    best_i = sims.argmax(axis=0)
    pairs = [(i, int(j), round(float(sims[i, j]), 4)) for i, j in enumerate(best_j)
             if best_i[j] == i and sims[i, j] >= threshold]
    return Region(tuple(longest_increasing(pairs)), len(ma), len(mb))
