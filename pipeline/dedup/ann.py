"""Nearest document vectors per language, through faiss: candidate search over the whole
history, never a time window.

One index per language, so a query asks each *other* language for its own top k (a
translation's nearest neighbours are otherwise crowded out by same-language articles on
the same topic).  The index is built per matched batch from the stored vectors; up to
``EXACT_UP_TO`` vectors per language it is exact (``IndexFlatIP``: 1,000 queries against
100,000 vectors is one BLAS product of about a second, cheaper than building a graph),
beyond that an HNSW graph, whose query cost grows with the logarithm of its size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EXACT_UP_TO = 200_000  # a flat BLAS scan beats building a graph per batch up to here
HNSW_M = 32
HNSW_EF_SEARCH = 128
HNSW_EF_CONSTRUCTION = 80


class LanguageIndex:
    """Inner-product nearest neighbours of L2-normalised vectors, one index per language."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._rows: dict[str, list[int]] = {}
        self._vecs: dict[str, list[np.ndarray]] = {}
        self._index: dict[str, object] = {}

    def add(self, lang: str, row: int, vec: np.ndarray) -> None:
        self._rows.setdefault(lang, []).append(row)
        self._vecs.setdefault(lang, []).append(np.asarray(vec, dtype=np.float32))
        self._index.pop(lang, None)

    def languages(self) -> list[str]:
        return sorted(self._rows)

    def _built(self, lang: str):
        import faiss

        if lang not in self._index:
            mat = np.ascontiguousarray(np.vstack(self._vecs[lang]), dtype=np.float32)
            if len(mat) <= EXACT_UP_TO:
                idx = faiss.IndexFlatIP(self.dim)
            else:
                idx = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                idx.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
                idx.hnsw.efSearch = HNSW_EF_SEARCH
            idx.add(mat)
            self._index[lang] = idx
        return self._index[lang]

    def search(self, lang: str, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, rows) of the ``k`` nearest in ``lang`` per query row; -1 rows pad."""
        idx = self._built(lang)
        k = min(k, len(self._rows[lang]))
        sims, pos = idx.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        rows = np.asarray(self._rows[lang])
        return sims, np.where(pos >= 0, rows[np.maximum(pos, 0)], -1)


def build(vectors: Sequence[tuple[int, str, np.ndarray]], dim: int) -> LanguageIndex:
    """An index over ``(row, language, vector)`` triples."""
    index = LanguageIndex(dim)
    for row, lang, vec in vectors:
        index.add(lang, row, vec)
    return index
