"""Same-language near copies: the measures on shingle *texts*, for ``explain``.

Matching itself (``pipeline.dedup.match.near_edges``) runs on persisted 32-bit shingle
hashes: candidates from LSH band keys of a MinHash (Jaccard: light edits, different
boilerplate) and from postings of sampled shingles (containment: a feed teaser holding
20 % of an article has Jaccard 0.2 but containment 1.0), verified exactly.  Explain
recomputes the same numbers from the texts so it can show shared shingles.
"""

from __future__ import annotations

SAMPLE_SHARED = 5


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
