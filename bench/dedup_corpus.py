"""Synthetic multilingual news corpus for the dedup benchmark, with planted copies.

Three synthetic "languages" (``en``, ``fr``: Latin script, ``ar``: Arabic script) share a
lexicon of concepts: every concept has one word per language, so a *translation* is the
same concept sequence written with the other language's words (plus light reordering),
while numbers and names survive verbatim, as they do in real translations.

Planted, per article slot (deterministic from the seed):
* 72 % originals, 8 % exact copies (other outlet), 8 % near copies (edited lead,
  dropped last sentence, outlet chrome) or excerpts (first three sentences),
  12 % translations of an original into another language, published hours later.

``LexiconEncoder`` is the encoder these languages deserve: a sentence vector is the
normalised sum of its concepts' random vectors, identical across languages, so the
benchmark exercises candidate search and alignment exactly as USE-m does on real text,
at numpy speed.  (USE-m's own cost is measured separately by ``bench/dedup_bench.py``.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline.models import Article

LANGS = ("en", "ar", "fr")
CONCEPTS = 6000
DIM = 256
EXTRA = 1 << 16
_AR = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
_LAT = "bcdfghjklmnprstvz"
_VOW = "aeiou"


def _word(rng: np.random.Generator, lang: str) -> str:
    n = int(rng.integers(2, 5))
    if lang == "ar":
        return "".join(_AR[int(rng.integers(len(_AR)))] for _ in range(n + 1))
    return "".join(_LAT[int(rng.integers(len(_LAT)))] + _VOW[int(rng.integers(5))] for _ in range(n))


@dataclass
class Lexicon:
    words: dict[str, list[str]]  # lang -> word per concept
    lookup: dict[str, int]  # any-language word -> concept

    @classmethod
    def build(cls, seed: int = 7) -> Lexicon:
        rng = np.random.default_rng(seed)
        words: dict[str, list[str]] = {}
        lookup: dict[str, int] = {}
        for lang in LANGS:
            seen: set[str] = set()
            out = []
            while len(out) < CONCEPTS:
                w = _word(rng, lang)
                if w not in seen and w not in lookup:
                    seen.add(w)
                    out.append(w)
            words[lang] = out
            lookup.update({w: i for i, w in enumerate(out)})
        return cls(words, lookup)


class LexiconEncoder:
    """Cross-lingual encoder for the synthetic languages (see module doc)."""

    name = "lexicon"
    dim = DIM
    languages = frozenset(LANGS)

    def __init__(self, lexicon: Lexicon) -> None:
        rng = np.random.default_rng(11)
        self.lex = lexicon
        self.table = rng.standard_normal((CONCEPTS + EXTRA, DIM)).astype(np.float32)

    def _row(self, tok: str) -> int:
        c = self.lex.lookup.get(tok)
        if c is not None:
            return c
        h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=4).digest(), "big")
        return CONCEPTS + h % EXTRA  # names and numbers: the same row in every language

    def encode(self, texts) -> np.ndarray:
        from scipy.sparse import csr_matrix

        texts = list(texts)
        rows, indptr = [], [0]
        for t in texts:
            rows.extend(self._row(tok) for tok in t.replace(".", " ").split())
            indptr.append(len(rows))
        counts = csr_matrix((np.ones(len(rows), dtype=np.float32), np.array(rows, dtype=np.int64),
                             np.array(indptr)), shape=(len(texts), CONCEPTS + EXTRA))
        sums = np.asarray(counts @ self.table, dtype=np.float32)
        n = np.linalg.norm(sums, axis=1, keepdims=True)
        return sums / np.maximum(n, 1e-12)


@dataclass
class Planted:
    kind: str  # exact | near | translation
    copy: str
    original: str


def generate(n: int, seed: int = 1, per_day: int = 1000,
             start: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> tuple[list[Article], list[Planted], Lexicon]:
    """``n`` articles published at ``per_day`` a day, and the copies planted among them."""
    lex = Lexicon.build()
    rng = np.random.default_rng(seed)
    zipf = 1.0 / np.arange(1, CONCEPTS + 1) ** 0.9
    cdf = np.cumsum(zipf / zipf.sum())
    arts: list[Article] = []
    planted: list[Planted] = []
    concepts: list[list[list[int | str]]] = []  # per article: sentences of concepts/literals
    for k in range(n):
        t = start + timedelta(seconds=86400.0 * k / per_day)
        r = rng.random()
        if k < 20 or r < 0.72:
            lang = LANGS[int(rng.integers(3))]
            sents = []
            lens = rng.integers(9, 16, size=int(rng.integers(6, 11)))
            drawn = np.minimum(np.searchsorted(cdf, rng.random(int(lens.sum()))), CONCEPTS - 1).tolist()
            pos = 0
            for ln in lens.tolist():
                toks: list[int | str] = drawn[pos : pos + ln]
                pos += ln
                if rng.random() < 0.5:
                    toks.insert(int(rng.integers(len(toks))), str(int(rng.integers(10, 99999))))
                if rng.random() < 0.3:
                    toks.insert(0, "Nom" + _word(rng, "en").capitalize())
                sents.append(toks)
            arts.append(_article(k, lang, t, sents, lex, "orig"))
            concepts.append(sents)
            continue
        j = int(rng.integers(max(0, k - 3 * per_day), k))  # an earlier article, within days
        src, sents = arts[j], concepts[j]
        if r < 0.80:
            a = _article(k, src.language, t, sents, lex, "exact")
            planted.append(Planted("exact", a.article_id, src.article_id))
        elif r < 0.88:
            if rng.random() < 0.5:
                edited = sents[:3]
            else:
                edited = [[*sents[0][:-1], "Update"]] + sents[1:-1]
            a = _article(k, src.language, t, edited, lex, "near")
            a.body_text += "\nShare this article. Subscribe to our newsletter."
            planted.append(Planted("near", a.article_id, src.article_id))
        else:
            other = [x for x in LANGS if x != src.language][int(rng.integers(2))]
            a = _article(k, other, t, sents, lex, "tr")
            planted.append(Planted("translation", a.article_id, src.article_id))
        arts.append(a)
        concepts.append(sents)
    return arts, planted, lex


def _article(k: int, lang: str, t: datetime, sents, lex: Lexicon, tag: str) -> Article:
    words = lex.words[lang]
    text = "\n".join(" ".join(words[int(x)] if not isinstance(x, str) else x for x in s) + "." for s in sents)
    url = f"https://outlet{k % 97}.bench/{tag}/{k}"
    aid = f"b{k:07d}"
    return Article(
        article_id=aid, url=url, canonical_url=url, feed_url=f"https://outlet{k % 97}.bench/feed",
        source_domain=f"outlet{k % 97}.bench", guid=url, title=f"{tag} {k}", summary="",
        body_text=text, language=lang, language_confidence=1.0, published_at=t,
        published_at_source="feed", published_at_flag=None, fetched_at=t,
    )
