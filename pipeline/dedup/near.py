"""Stage 2: near-duplicates in one language — MinHash/LSH candidates, exact verification.

Candidates come from two indexes, never from all pairs:

* ``MinHashLSH`` over word 5-shingles at ``settings.lsh_threshold`` finds pairs whose
  Jaccard similarity is high (light edits, different boilerplate).
* A postings index of *sampled* shingles (those whose stable hash is 0 mod
  ``SAMPLE_MOD``) finds a short excerpt inside its full text, which Jaccard cannot: a
  feed teaser holding 20 % of an article has Jaccard 0.2 but containment 1.0.  Postings
  longer than ``MAX_POSTING`` are skipped: a shingle that many articles share is site
  boilerplate, not evidence.

Verification is exact on the shingle sets: Jaccard >= ``near_jaccard`` or containment
(|A∩B| / min(|A|, |B|)) >= ``near_containment``.  The score is the larger of the two.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from datasketch import MinHash, MinHashLSH

from pipeline.config import Settings
from pipeline.dedup.prep import Prepared
from pipeline.models import DedupEdge

SAMPLE_MOD = 4
MAX_POSTING = 64
SAMPLE_SHARED = 5


def _h64(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "big")


def shingle_overlap(a: set[str], b: set[str]) -> dict:
    """Jaccard, containment, shared count and a few shared shingles (sorted, for stability)."""
    if not a or not b:
        return {"jaccard": 0.0, "containment": 0.0, "shared_shingles": 0, "sample_shared": []}
    inter = a & b
    union = len(a) + len(b) - len(inter)
    return {
        "jaccard": round(len(inter) / union, 4),
        "containment": round(len(inter) / min(len(a), len(b)), 4),
        "shared_shingles": len(inter),
        "sample_shared": sorted(inter)[:SAMPLE_SHARED],
    }


def near_decision(ov: dict, settings: Settings) -> bool:
    return ov["jaccard"] >= settings.near_jaccard or ov["containment"] >= settings.near_containment


def _candidates(docs: Sequence[Prepared], settings: Settings) -> set[tuple[int, int]]:
    lsh = MinHashLSH(threshold=settings.lsh_threshold, num_perm=settings.minhash_perm)
    postings: dict[int, list[int]] = defaultdict(list)
    hashes: list[MinHash] = []
    for i, d in enumerate(docs):
        mh = MinHash(num_perm=settings.minhash_perm, seed=1)
        mh.update_batch([s.encode("utf-8") for s in d.shingles])
        hashes.append(mh)
        lsh.insert(str(i), mh)
        for s in d.shingles:
            h = _h64(s)
            if h % SAMPLE_MOD == 0:
                postings[h].append(i)
    pairs: set[tuple[int, int]] = set()
    for i, mh in enumerate(hashes):
        for key in lsh.query(mh):
            j = int(key)
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    for ids in postings.values():
        if 1 < len(ids) <= MAX_POSTING:
            for x in range(len(ids)):
                for y in range(x + 1, len(ids)):
                    pairs.add((ids[x], ids[y]))
    return pairs


def _by_language(docs: Iterable[Prepared]) -> dict[str, list[Prepared]]:
    groups: dict[str, list[Prepared]] = defaultdict(list)
    for d in docs:
        if d.eligible:
            groups[d.article.language or "und"].append(d)
    return groups


def near_edges(
    docs: Sequence[Prepared], settings: Settings, skip: set[tuple[str, str]] = frozenset()
) -> list[DedupEdge]:
    """Verified near-duplicate edges among same-language, long-enough articles.

    ``skip`` holds (a_id, b_id) pairs (sorted) already linked by an exact edge."""
    edges: list[DedupEdge] = []
    for _lang, group in sorted(_by_language(docs).items()):
        group = sorted(group, key=lambda d: d.id)
        for i, j in sorted(_candidates(group, settings)):
            a, b = group[i], group[j]
            if (a.id, b.id) in skip or a.norm_hash == b.norm_hash:
                continue
            ov = shingle_overlap(a.shingles, b.shingles)
            if near_decision(ov, settings):
                ov["same_source"] = a.article.source_domain == b.article.source_domain
                edges.append(DedupEdge(a.id, b.id, "near", max(ov["jaccard"], ov["containment"]), ov))
    return edges
