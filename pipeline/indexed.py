"""``IndexedDoc``: one article as the dedup index stores it (identities, shingle hashes, LSH
band keys, anchors, sentence and document vectors).

A plain record in a neutral module because two stages share it: dedup computes and reads it,
the lake's dedup zone (``pipeline.lake.dedup_zone``) writes and reads it as Parquet rows.
Storage must not import the algorithms (the stage order, ``tests/unit/test_layering.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from pipeline.models import Anchor


@dataclass
class IndexedDoc:
    """One article's identities, signatures, anchors and vectors (see module doc)."""

    id: str
    language: str
    published_at: datetime
    eligible: bool
    norm_hash: str
    canonical_url: str
    url: str
    guid: str
    source_domain: str
    translator: str | None
    original_outlet: str | None
    original_domain: str | None
    original_url: str | None
    shingles: np.ndarray  # uint32, sorted unique
    bands: np.ndarray  # uint64, one key per LSH band
    anchors: list[Anchor] | None  # None until loaded (known docs load lazily)
    sentences: list[str] | None = None  # None until loaded
    spans: list[tuple[int, int]] | None = None  # char offsets of sentences in body_text
    shingle_seq: np.ndarray | None = None  # uint32 in text order; None until loaded
    anchor_keys: np.ndarray | None = None  # uint64 hashes of numeric and name anchors (light)
    sentvec: np.ndarray | None = None  # float32 (n, dim) of ``encoder``; None: not loaded, or
    # (``sentences`` loaded) not yet encoded: only the sketch is, ``pipeline.dedup.sketch``
    sketch_rows: list[int] | None = None  # sentence indices of the sketch
    sketchvec: np.ndarray | None = None  # float32 (len(sketch_rows), dim) of ``encoder``
    sentvec_fresh: bool = False  # whole vectors encoded in this run, not yet persisted
    docvec: np.ndarray | None = None  # float32 (dim,)
    titlevec: np.ndarray | None = None  # float32 (dim,), zeros without a title; for the related stage
    encoder: str = ""
    extra: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # other encoders
    extra_fresh: set[str] = field(default_factory=set)  # ``extra`` keys encoded in this run, not yet persisted
    location: tuple[str, int] | None = None  # (lake file key, row) for lazy loading

    @property
    def article_id(self) -> str:  # the name ``cluster.choose_canonical`` reads
        return self.id

    @property
    def ts(self) -> float:
        return self.published_at.timestamp()
