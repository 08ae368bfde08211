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
4. across languages, *gap filling*: between two consecutive strong matches, sentences
   that are each other's best match inside the gap, in order, above a lower cosine,
   are kept as ``filled``.  A loose translation (merged clauses, a reworded sentence)
   scores 0.45-0.6 where a close one scores above 0.6; boxed in by strong matches on
   both sides, in order, such a pair is the same passage, not a coincidence (the
   anchor-then-fill scheme of sentence aligners such as hunalign and Bleualign).
   Filled pairs count toward coverage (the region is dense) but never toward the share
   or the evidence, which strong matches alone carry.

``Region`` keeps the unit indices, so evidence can name the exact passages.
"""

from __future__ import annotations

import bisect
import itertools
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
    filled: tuple[Match, ...] = ()  # weaker in-order matches inside the chain's gaps

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
        """Share of the shorter region's units that are in the chain or fill its gaps
        (1.0: dense copy)."""
        return round((self.size + len(self.filled)) / self.shorter_span, 4) if self.chain else 0.0

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
        return {"aligned": self.size, "filled": len(self.filled), "coverage": self.coverage,
                "share": self.share,
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


def _mutual_best(sims: np.ndarray, threshold: float, i0: int = 0, j0: int = 0) -> list[Match]:
    """Mutual best matches of ``sims`` with cosine >= ``threshold``, sorted by row;
    indices offset by (``i0``, ``j0``)."""
    best_j = sims.argmax(axis=1)
    best_i = sims.argmax(axis=0)
    return [(i0 + i, j0 + int(j), round(float(sims[i, j]), 4)) for i, j in enumerate(best_j)
            if best_i[j] == i and sims[i, j] >= threshold]


def fill_gaps(sims: np.ndarray, chain: tuple[Match, ...], fill: float) -> tuple[Match, ...]:
    """In-order matches with cosine >= ``fill`` inside the gaps between consecutive
    chain matches, each the other's best *within its gap* (module docstring, step 4)."""
    out: list[Match] = []
    for (i0, j0, _), (i1, j1, _) in itertools.pairwise(chain):
        if i1 - i0 > 1 and j1 - j0 > 1:
            gap = sims[i0 + 1 : i1, j0 + 1 : j1]
            out += longest_increasing(_mutual_best(gap, fill, i0 + 1, j0 + 1))
    return tuple(out)


def sentence_region(ma: np.ndarray, mb: np.ndarray, threshold: float,
                    fill: float | None = None) -> Region:
    """In-order region of mutual best sentence matches with cosine >= ``threshold``;
    with ``fill``, its gaps filled by weaker in-order matches (``fill_gaps``)."""
    if not len(ma) or not len(mb):
        return Region((), len(ma), len(mb))
    sims = ma @ mb.T
    chain = tuple(longest_increasing(_mutual_best(sims, threshold)))
    filled = fill_gaps(sims, chain, fill) if fill is not None and fill < threshold else ()
    return Region(chain, len(ma), len(mb), filled)
