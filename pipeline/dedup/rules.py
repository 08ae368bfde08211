"""What decides whether stored dedup work may be reused: settings *and* code.

An index row, a batch's edges and a generation are each stamped with a fingerprint.  A
fingerprint of settings alone let upgraded code silently keep edges made under old
rules; so each fingerprint also hashes the source of every module whose code shapes
that piece of work.  Any change to those modules (a threshold constant, a new measure)
recomputes what they produced, nothing else.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from functools import cache

from pipeline.config import Settings

INDEX_VERSION = 4  # the stored layout (3: shingle order and sentence offsets; 4: sketches)

# The modules whose code decides each stage's output.
INDEX_CODE = ("pipeline.dedup.index", "pipeline.dedup.sketch", "pipeline.dedup.prep", "pipeline.dedup.encoder",
              "pipeline.extract.textnorm", "pipeline.extract.anchors")
MATCH_CODE = ("pipeline.dedup.match", "pipeline.dedup.verify", "pipeline.dedup.sketch", "pipeline.dedup.align",
              "pipeline.dedup.ann", "pipeline.dedup.corroborate")
CLUSTER_CODE = ("pipeline.dedup.cluster", "pipeline.dedup.engine", "pipeline.dedup.stage")

MATCH_SETTINGS = ("near_jaccard", "near_containment", "near_region_coverage", "near_min_share",
                  "translation_candidate_cosine", "translation_sentence_cosine",
                  "translation_fill_cosine", "translation_region_coverage", "translation_min_evidence", "dedup_encoders")


@cache
def code_hash(modules: tuple[str, ...]) -> str:
    """sha256 over the source bytes of ``modules`` (by import name, in order)."""
    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"dedup rules: cannot locate module {name}")
        with open(spec.origin, "rb") as fh:
            h.update(name.encode() + b"\0" + fh.read() + b"\0")
    return h.hexdigest()[:16]


def _fp(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def index_fingerprint(settings: Settings) -> str:
    return _fp({"v": INDEX_VERSION, "code": code_hash(INDEX_CODE),
                "enc": settings.dedup_encoders.split(",")[0].strip(),
                "lsh": settings.lsh_threshold, "perm": settings.minhash_perm,
                "min": settings.min_text_chars})


def match_fingerprint(settings: Settings) -> str:
    return _fp({"index": index_fingerprint(settings), "code": code_hash(MATCH_CODE),
                **{k: getattr(settings, k) for k in MATCH_SETTINGS}})


def cluster_fingerprint(settings: Settings) -> str:
    return _fp({"match": match_fingerprint(settings), "code": code_hash(CLUSTER_CODE)})
