"""The persisted matching material of one article: what later batches compare against.

Computed once per article (``index_articles``) and stored in the lake's ``dedup-index``
zone (``pipeline.lake.dedup_zone``), so a later batch is compared with what is known
without re-reading article bodies or re-encoding them:

* identities: canonical URL, (source, guid), normalised-text hash;
* ``shingles``: sorted unique 32-bit hashes of the word 5-shingles (exact Jaccard and
  containment), ``bands``: LSH band keys of a 128-permutation MinHash over them;
  ``shingle_seq``: the same hashes in text order (the in-order region of a near copy,
  ``pipeline.dedup.align``);
* ``anchors``: numbers, dates, years, name skeletons (corroboration, and candidate
  postings for languages the primary encoder does not cover);
* ``sentences`` with their character ``spans`` in the body (evidence points at them),
  ``sketchvec`` (float16, primary encoder) of the *sketch* (the lead and evenly spaced
  sentences, ``pipeline.dedup.sketch``), ``docvec`` (their normalised mean) for candidate
  search, and ``sentvec`` (every sentence) only once a candidate pair needed it.  Secondary encoders run on demand over the
  stored sentences, only for the few pairs that need them.
* ``titlevec``: the title, encoded in the same batched call.  Dedup does not use it; the
  related stage does (its vectors are the stored ``docvec`` and ``titlevec``, so it never
  encodes an article dedup has embedded, and without the title a body mean loses most of
  related quality: ``docs/related.md``).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from pipeline.dedup.encoder import Encoder, covers
from pipeline.dedup.prep import Prepared, prepare
from pipeline.dedup.sketch import complete, sketch_rows
from pipeline.extract.textnorm import sentence_spans
from pipeline.extract.textnorm import sentences as split_sentences
from pipeline.indexed import IndexedDoc
from pipeline.models import Anchor, Article

MAX_SENTENCES = 150
NUM_PERM = 128
_PRIME = np.uint64(4294967311)  # smallest prime above 2**32


# IndexedDoc is a plain record the lake also reads and writes: it lives in pipeline.indexed.


def h32(text: str) -> int:
    """Stable 32-bit hash (CRC-32: C speed; collisions only blur Jaccard by ~1e-9)."""
    return zlib.crc32(text.encode("utf-8"))


ANCHOR_KINDS = ("number", "date", "name")


def anchor_key_array(anchors: Sequence[Anchor]) -> np.ndarray:
    """Sorted unique 32-bit hashes of an article's numbers, dates and name skeletons: the
    light, language-independent postings keys of translation candidates."""
    return np.unique(np.array([h32(f"{a.kind}:{a.value}") for a in anchors if a.kind in ANCHOR_KINDS],
                              dtype=np.uint64))


def shingle_sequence(p: Prepared) -> np.ndarray:
    """32-bit hashes of the shingles in text order (empty for ineligible texts)."""
    return np.fromiter((zlib.crc32(s.encode("utf-8")) for s in p.shingle_sequence()), dtype=np.uint32)


def shingle_hashes(p: Prepared) -> np.ndarray:
    return np.unique(shingle_sequence(p))


@lru_cache(maxsize=8)
def _perms(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    a = rng.integers(1, 2**31, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, 2**31, size=num_perm, dtype=np.uint64)
    return a, b


@lru_cache(maxsize=32)
def band_shape(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows) minimising the equally weighted areas of false positives (below
    ``threshold``) and false negatives (above) of the banding S-curve: the recipe of
    datasketch's ``MinHashLSH``, so its recall/precision carry over."""
    best, shape = float("inf"), (1, num_perm)
    lo, hi = np.linspace(0.0, threshold, 400), np.linspace(threshold, 1.0, 400)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1 - (1 - lo**r) ** b, lo)
            fn = np.trapezoid(1 - (1 - (1 - hi**r) ** b), hi)
            if 0.5 * fp + 0.5 * fn < best:
                best, shape = 0.5 * fp + 0.5 * fn, (b, r)
    return shape


def minhash(shingles: np.ndarray, num_perm: int = NUM_PERM) -> np.ndarray:
    a, b = _perms(num_perm)
    if not len(shingles):
        return np.full(num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
    x = shingles.astype(np.uint64)[:, None]
    return ((x * a[None, :] + b[None, :]) % _PRIME).min(axis=0)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per band; the band number is mixed in so bands never collide."""
    keys = np.empty(bands, dtype=np.uint64)
    for i in range(bands):
        chunk = sig[i * rows : (i + 1) * rows].tobytes() + i.to_bytes(2, "big")
        keys[i] = int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "big")
    return keys


def doc_vector(matrix: np.ndarray, dim: int) -> np.ndarray:
    v = matrix.mean(axis=0) if len(matrix) else np.zeros(dim, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return (v / n if n > 0 else v).astype(np.float32)


def index_articles(articles: Sequence[Article], encoder: Encoder, *, min_text_chars: int,
                   lsh_threshold: float, num_perm: int = NUM_PERM,
                   encode: bool = True) -> list[IndexedDoc]:
    """Index ``articles`` (sorted by id); sentences of eligible articles are encoded in
    one batched call.  ``encode=False`` skips vectors (single-language runs)."""
    bands, rows = band_shape(lsh_threshold, num_perm)
    out: list[IndexedDoc] = []
    for a in sorted(articles, key=lambda a: a.article_id):
        p = prepare(a, min_text_chars)
        seq = shingle_sequence(p)
        sh = np.unique(seq)
        keys = band_keys(minhash(sh, num_perm), bands, rows) if len(sh) else np.zeros(0, np.uint64)
        sents = split_sentences(a.body_text or "")[:MAX_SENTENCES] if p.eligible else []
        out.append(IndexedDoc(
            id=a.article_id, language=a.language or "und", published_at=a.published_at,
            eligible=p.eligible, norm_hash=p.norm_hash, canonical_url=a.canonical_url or "",
            url=a.url or "", guid=a.guid or "", source_domain=a.source_domain or "",
            translator=a.translator, original_outlet=a.original_outlet,
            original_domain=a.original_domain, original_url=a.original_url,
            shingles=sh, bands=keys, anchors=list(p.anchors), sentences=sents,
            spans=sentence_spans(a.body_text or "", sents), shingle_seq=seq,
            anchor_keys=anchor_key_array(p.anchors),
        ))
    if encode:
        titles = {a.article_id: a.title or "" for a in articles}
        embed_docs([d for d in out if d.sentences], encoder, titles)
    for d in out:
        if d.docvec is None:
            d.encoder = encoder.name
            d.sentvec = np.zeros((0, encoder.dim), dtype=np.float32)
            d.docvec = np.zeros(encoder.dim, dtype=np.float32)
    return out


def embed_docs(docs: Sequence[IndexedDoc], encoder: Encoder, titles: Mapping[str, str] | None = None,
               full: bool = False) -> None:
    """Fill ``sketchvec``/``docvec`` (and ``titlevec`` from ``titles``, id -> title) with
    ``encoder`` (primary) in one batched call: only each document's sketch rows
    (``pipeline.dedup.sketch``), or every sentence with ``full``.  ``sentvec`` is filled
    when the sketch is the whole text; otherwise it stays None until a pair needs it."""
    titles = titles or {}
    titled = [d for d in docs if titles.get(d.id, "").strip()]
    for d in docs:
        n = len(d.sentences or [])
        d.sketch_rows = list(range(n)) if full else sketch_rows(n)
    flat = [d.sentences[k] for d in docs for k in d.sketch_rows] + [titles[d.id].strip() for d in titled]
    vecs = encoder.encode(flat) if flat else np.zeros((0, encoder.dim), dtype=np.float32)
    vecs = np.asarray(vecs, dtype=np.float16).astype(np.float32)  # as stored: replays decide alike
    pos = 0
    for d in docs:
        n = len(d.sketch_rows)
        d.sketchvec = vecs[pos : pos + n]
        d.sentvec = d.sketchvec if n == len(d.sentences or []) else None
        d.docvec = doc_vector(d.sketchvec, encoder.dim)
        d.titlevec = np.zeros(encoder.dim, dtype=np.float32)
        d.encoder = encoder.name
        pos += n
    for d in titled:
        d.titlevec = np.asarray(vecs[pos], dtype=np.float32)
        pos += 1


def vectors_for(doc: IndexedDoc, encoder: Encoder) -> tuple[np.ndarray, np.ndarray]:
    """(sentence matrix, doc vector) of ``doc`` under ``encoder``, encoding on demand (the
    primary's whole vectors when only the sketch is known: ``sketch.complete``)."""
    if doc.encoder == encoder.name:
        if doc.sentvec is None and doc.sentences:
            complete([doc], encoder)
        if doc.sentvec is not None:
            return doc.sentvec, doc.docvec
    if encoder.name not in doc.extra:
        m = encoder.encode(doc.sentences or [])
        doc.extra[encoder.name] = (m, doc_vector(m, encoder.dim))
        doc.extra_fresh.add(encoder.name)
    return doc.extra[encoder.name]


def prefetch(docs: Sequence[IndexedDoc], encoder: Encoder) -> None:
    """Encode the sentences of every doc that lacks ``encoder``'s vectors in one batched
    call (a secondary encoder runs on demand; one call per document wastes its batches)."""
    todo = [d for d in docs if d.encoder != encoder.name and encoder.name not in d.extra]
    todo = list({id(d): d for d in todo}.values())
    flat = [s for d in todo for s in d.sentences or []]
    if not flat:
        return
    vecs = encoder.encode(flat)
    pos = 0
    for d in todo:
        n = len(d.sentences or [])
        d.extra[encoder.name] = (vecs[pos : pos + n], doc_vector(vecs[pos : pos + n], encoder.dim))
        d.extra_fresh.add(encoder.name)  # persisted by the stage (pipeline.lake.dedup_secvec)
        pos += n


def pick_encoder(chain: Sequence[Encoder], la: str, lb: str) -> tuple[Encoder, bool]:
    """The first encoder covering both languages (covered=True), else the primary."""
    for enc in chain:
        if covers(enc, la) and covers(enc, lb):
            return enc, True
    return chain[0], False
