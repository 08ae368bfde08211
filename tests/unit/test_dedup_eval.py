"""CI gate: the real dedup on both development sets meets the issue-5 targets.

* ``tests/fixtures/dedup`` — our synthetic Arabic/English set (outlet styles, edited and
  excerpted republications, attributed and unattributed translations, hard negatives on
  the same events, boilerplate pages);
* ``ntrex-dev``: the gate lives in ``test_dedup_ntrex.py`` (it shares that module's
  encoded corpus).

Targets: translation recall >= 0.95 at precision >= 0.98, republication F1 >= 0.98, no
``related`` pair merged.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.cli import main
from pipeline.dedup.evaluate import (
    read_jsonl,
    score,
    targets_met,
)
from pipeline.models import DedupAssignment

DEV = Path(__file__).resolve().parents[1] / "fixtures" / "dedup"


def test_devset_is_big_enough_and_labelled():
    items, pairs = read_jsonl(DEV / "items.jsonl"), read_jsonl(DEV / "pairs.jsonl")
    labels = {p["label"] for p in pairs}
    assert len(pairs) >= 150 and labels == {"republication", "translation", "related", "unrelated"}
    assert {i["language"] for i in items} == {"en", "ar"}
    ids = {i["id"] for i in items}
    assert all(p["a"] in ids and p["b"] in ids for p in pairs)


def test_devset_is_reproducible_from_its_builder(tmp_path):
    import subprocess
    import sys

    before = (DEV / "pairs.jsonl").read_bytes(), (DEV / "items.jsonl").read_bytes()
    subprocess.run([sys.executable, str(DEV / "build_devset.py")], check=True, capture_output=True)
    assert ((DEV / "pairs.jsonl").read_bytes(), (DEV / "items.jsonl").read_bytes()) == before


def test_score_counts_labels():
    items = [{"id": x, "language": lang} for x, lang in [("a", "en"), ("b", "en"), ("c", "ar"), ("d", "ar")]]
    asg = {x: DedupAssignment(x, "s1" if x in "abc" else "s2", None, None, None) for x in "abcd"}
    pairs = [{"a": "a", "b": "b", "label": "republication"}, {"a": "a", "b": "c", "label": "translation"},
             {"a": "a", "b": "d", "label": "translation"}, {"a": "b", "b": "c", "label": "related"}]
    r = score(items, pairs, asg)
    assert r["labels"]["republication"]["f1"] == 1.0
    assert (r["labels"]["translation"]["recall"], r["labels"]["translation"]["precision"]) == (0.5, 0.5)
    assert r["labels"]["related"]["merged"] == 1
    assert targets_met(r)


def test_gate_synthetic_devset(capsys):
    rc = main(["eval", "dedup", "--items", str(DEV / "items.jsonl"), "--pairs", str(DEV / "pairs.jsonl"),
               "--check", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0, targets_met(report)
    assert report["labels"]["related"]["merged"] == 0
    assert report["labels"]["unrelated"]["merged"] == 0
    assert report["labels"]["translation"]["recall"] >= 0.95
    assert report["labels"]["translation"]["precision"] >= 0.98
    assert report["labels"]["republication"]["f1"] >= 0.98


def test_eval_cli_rejects_bad_input(tmp_path, capsys):
    bad = tmp_path / "pairs.jsonl"
    bad.write_text('{"a": "x", "b": "y", "label": "cousin"}\n')
    items = tmp_path / "items.jsonl"
    items.write_text('{"id": "x", "language": "en", "text": "t"}\n{"id": "y", "language": "en", "text": "t"}\n')
    assert main(["eval", "dedup", "--items", str(items), "--pairs", str(bad)]) == 2
    assert "cousin" in capsys.readouterr().err
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    assert main(["eval", "dedup", "--items", str(tmp_path / "broken.jsonl"), "--pairs", str(bad)]) == 2
