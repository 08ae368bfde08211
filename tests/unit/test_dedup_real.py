"""Dedup on real republications and translations (``corpora/republished``): the gate and
the proof that ``explain`` tells what the pipeline did.

The set (144 real pages, 288 labelled pairs, 30 groups) is read from ``../shared`` at run
time, never copied here.  Its split into a tuning and a held-out half by group was
committed before tuning (``pipeline/data/republished_split.json``).  Figures: docs/dedup.md.
"""

from __future__ import annotations

import json

import pytest

from pipeline.config import Settings
from pipeline.dedup import find_duplicates
from pipeline.dedup.evaluate import (
    DEFAULT_SPLIT,
    evaluate,
    format_full,
    item_to_article,
    read_jsonl,
    read_split,
)
from tests.conftest import CORPORA, need

pytestmark = pytest.mark.slow

REPUBLISHED = CORPORA / "republished"
SYNTHETIC = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures" / "dedup"


@pytest.fixture(scope="module")
def real():
    need((REPUBLISHED / "items.jsonl").is_file(), f"real republished set not found at {REPUBLISHED}")
    items = read_jsonl(REPUBLISHED / "items.jsonl")
    pairs = read_jsonl(REPUBLISHED / "pairs.jsonl")
    result = find_duplicates([item_to_article(i) for i in items], Settings())
    return items, pairs, result


def test_split_covers_every_item_once(real):
    items, _, _ = real
    split = read_split(DEFAULT_SPLIT)
    assert not split["tune"] & split["holdout"]
    assert split["tune"] | split["holdout"] == {i["id"] for i in items}


def test_gate_real_set(real):
    """Measured figures, pinned: a rule change that loses a real copy or merges a hard
    negative fails here.  The issue-12 targets not yet met are listed in docs/dedup.md."""
    items, pairs, result = real
    report = evaluate(items, pairs, Settings(), split=read_split(DEFAULT_SPLIT), result=result)
    print(format_full(report))
    whole, tune, held = report["labels"], report["halves"]["tune"]["labels"], report["halves"]["holdout"]["labels"]
    # no hard negative (same event, template story) and no unrelated pair merged, anywhere
    assert whole["related"]["merged"] == 0 and whole["unrelated"]["merged"] == 0
    assert whole["republication"]["recall"] == 1.0 and held["republication"]["recall"] == 1.0
    assert whole["translation"]["precision"] == 1.0
    assert tune["translation"]["recall"] == 1.0
    assert whole["translation"]["recall"] >= 0.93  # target 0.90: 54 of 58 today
    assert held["translation"]["recall"] >= 0.77  # target 0.85: 14 of 18 today


def _linked(result, a: str, b: str) -> bool:
    pair = tuple(sorted((a, b)))
    return any((e.a, e.b) == pair for e in result.edges)


@pytest.mark.parametrize("dataset", ["real", "synthetic"])
def test_explain_runs_the_pipelines_decision_for_every_labelled_pair(dataset, real):
    if dataset == "real":
        _, pairs, result = real
    else:
        items = read_jsonl(SYNTHETIC / "items.jsonl")
        pairs = read_jsonl(SYNTHETIC / "pairs.jsonl")
        result = find_duplicates([item_to_article(i) for i in items], Settings())
    for p in pairs:
        a, b = str(p["a"]), str(p["b"])
        out = result.explain(a, b)
        json.dumps(out, default=str)
        decided = out["decision"]["duplicate"]
        exact = out["edge"]["kind"] == "exact"
        # the edge decision is the matcher's: an accepted pair has an edge, a rejected none
        assert decided == _linked(result, a, b) or (exact and decided), (a, b, out["decision"])
        same = result.assignments[a].story_id == result.assignments[b].story_id
        assert out["story"]["same_story"] == same == out["decision"]["same_story"]
        if same:
            path = out["story"]["path"]
            assert path, (a, b)
            ends = [path[0]["a"], path[0]["b"]], [path[-1]["a"], path[-1]["b"]]
            assert a in ends[0] and b in ends[1] or b in ends[0] and a in ends[1]
            assert all(_linked(result, e["a"], e["b"]) for e in path)
            assert out["story"]["direct"] == (len(path) == 1)
