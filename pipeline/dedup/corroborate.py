"""Language-independent corroboration for a cross-language pair: anchors and attribution.

Numbers, years and dates (``numeric``) survive translation verbatim once digits are
folded; name keys are consonant skeletons (``pipeline.extract.anchors``).  An Arabic
text yields a key for every content word, so name overlap is measured against the
*smaller* key set (in practice the Latin side's names): ``coverage``.
"""

from __future__ import annotations

from pipeline.models import Anchor, Article

NUMERIC = ("number", "year", "date")
SAMPLE = 8


def anchor_overlap(a: list[Anchor], b: list[Anchor]) -> dict:
    na = {(x.kind, x.value) for x in a if x.kind in NUMERIC}
    nb = {(x.kind, x.value) for x in b if x.kind in NUMERIC}
    ma = {x.value for x in a if x.kind == "name"}
    mb = {x.value for x in b if x.kind == "name"}
    num_shared = na & nb
    name_shared = ma & mb
    num_union = len(na | nb)
    return {
        "numeric_shared": len(num_shared),
        "numeric_jaccard": round(len(num_shared) / num_union, 4) if num_union else 0.0,
        "numeric_a": len(na),
        "numeric_b": len(nb),
        "names_shared": len(name_shared),
        "names_coverage": round(len(name_shared) / min(len(ma), len(mb)), 4)
        if ma and mb
        else 0.0,
        "shared_numeric_sample": sorted(f"{k}:{v}" for k, v in num_shared)[:SAMPLE],
        "shared_names_sample": sorted(name_shared)[:SAMPLE],
    }


def _domain(d: str | None) -> str:
    d = (d or "").strip().lower().rstrip(".")
    return d[4:] if d.startswith("www.") else d


def _same_site(x: str | None, y: str | None) -> bool:
    x, y = _domain(x), _domain(y)
    return bool(x and y) and (x == y or x.endswith("." + y) or y.endswith("." + x))


def attribution(a: Article, b: Article) -> dict:
    """Does either article credit the other's outlet (domain or URL) as its original?"""
    a_names_b = _same_site(a.original_domain, b.source_domain) or (
        bool(a.original_url) and a.original_url in (b.canonical_url, b.url)
    )
    b_names_a = _same_site(b.original_domain, a.source_domain) or (
        bool(b.original_url) and b.original_url in (a.canonical_url, a.url)
    )
    return {
        "a_credits_b": bool(a_names_b),
        "b_credits_a": bool(b_names_a),
        "a_translator": a.translator,
        "b_translator": b.translator,
        "a_original_outlet": a.original_outlet,
        "b_original_outlet": b.original_outlet,
        "names_other_outlet": bool(a_names_b or b_names_a),
    }
