"""Editors' corrections as constraints (``pipeline.dedup.corrections``): they win over
the edges, through other copies too, and the latest correction of a pair wins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from pipeline.dedup.corrections import apply, constraints, digest, make
from pipeline.dedup.engine import cluster_edges
from pipeline.models import DedupEdge


@dataclass
class M:
    article_id: str
    language: str
    published_at: datetime
    translator: str | None = None
    original_outlet: str | None = None


META = {k: M(k, lang, datetime(2025, 1, n + 1, tzinfo=UTC))
        for n, (k, lang) in enumerate([("a", "en"), ("b", "en"), ("c", "ar"), ("d", "ar"), ("x", "en")])}


def _edges():
    return [DedupEdge("a", "b", "exact", 1.0, {}), DedupEdge("a", "c", "translation", 0.9, {"region": {"aligned": 8}}),
            DedupEdge("c", "d", "exact", 1.0, {})]


def _story(result, k):
    return result.assignments[k].story_id


def test_without_corrections_one_story():
    r = cluster_edges(META, _edges())
    assert len({_story(r, k) for k in "abcd"}) == 1 and _story(r, "x") != _story(r, "a")


def test_split_takes_the_article_out_even_through_other_copies():
    c = make("split", "c", ["a", "b", "d"], "ed", "2025-02-01T00:00:00+00:00")
    r = cluster_edges(META, _edges(), corrections=[c])
    assert _story(r, "c") not in {_story(r, k) for k in "abd"}
    assert _story(r, "a") == _story(r, "b")
    # d reached a only through c: with c out, d is no longer linked to a either
    assert _story(r, "d") != _story(r, "a")


def test_join_adds_an_editor_edge_and_wins_over_an_earlier_split():
    split = make("split", "b", ["a", "c", "d"], "ed1", "2025-02-01T00:00:00+00:00")
    join = make("join", "b", ["a", "c", "d"], "ed2", "2025-02-02T00:00:00+00:00")
    r = cluster_edges(META, _edges(), corrections=[join, split])  # order given does not matter
    assert _story(r, "b") == _story(r, "a")
    r = cluster_edges(META, _edges(), corrections=[split])
    assert _story(r, "b") != _story(r, "a")
    joined = cluster_edges(META, _edges(), corrections=[make("join", "x", ["a"], "ed", "2025-02-03T00:00:00+00:00")])
    assert _story(joined, "x") == _story(joined, "a")
    edge = next(e for e in joined.edges if {e.a, e.b} == {"a", "x"})
    assert edge.evidence["editor"] == "ed" and edge.kind == "near"


def test_latest_correction_per_pair_wins():
    s = make("split", "b", ["a"], "ed", "2025-02-01T00:00:00+00:00")
    j = make("join", "b", ["a"], "ed", "2025-02-02T00:00:00+00:00")
    must, cannot = constraints([j, s])
    assert ("a", "b") in must and not cannot
    must, cannot = constraints([make("split", "b", ["a"], "ed", "2025-02-03T00:00:00+00:00"), j])
    assert ("a", "b") in cannot and not must


def test_apply_never_duplicates_an_edge_key():
    j = make("join", "b", ["a"], "ed", "2025-02-02T00:00:00+00:00")
    out = apply([DedupEdge("a", "b", "near", 0.8, {})], [j], {"a": "en", "b": "en"})
    assert len(out) == 1 and out[0].evidence["editor"] == "ed"


def test_corrections_are_content_addressed_and_validated():
    one = make("split", "b", ["a", "a"], "ed", "2025-02-01T00:00:00+00:00")
    assert one == make("split", "b", ["a"], "ed", "2025-02-01T00:00:00+00:00")
    assert digest([one]) != digest([]) == ""
    with pytest.raises(ValueError):
        make("merge", "b", ["a"], "ed", "t")
    with pytest.raises(ValueError):
        make("split", "b", ["b"], "ed", "t")
    with pytest.raises(ValueError):
        make("split", "b", ["a"], "  ", "t")
