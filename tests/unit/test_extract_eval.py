"""CI gate: ``newsflow eval extraction`` on a deterministic subset of shared/corpora/html.

newsflow's body text must beat plain ``trafilatura.extract`` overall and must not fall
below it on any language of the subset (no tolerance; every language of the full
corpus is at or above it too).  The full run is ``newsflow eval extraction ../shared/corpora/html``."""

from __future__ import annotations

import pytest

from pipeline.extract.evaluate import evaluate, load_cases, report, token_prf
from tests.conftest import CORPORA, need

pytestmark = pytest.mark.slow
CORPUS = CORPORA / "html"


def test_token_prf():
    assert token_prf("a b c", "a b c").f1 == 1.0
    s = token_prf("a b x", "a b c d")
    assert (round(s.precision, 3), round(s.recall, 3)) == (0.667, 0.5)
    assert token_prf("东京都", "东京").recall == 1.0  # CJK counts per character


def test_newsflow_beats_plain_trafilatura_on_every_language():
    need(CORPUS.is_dir(), f"html corpus not found at {CORPUS}")
    cases = load_cases(CORPUS, every=9)
    assert len(cases) >= 30
    figures = report(*evaluate(cases))
    overall = figures["overall"]
    print(f"\nsubset: {overall['pages']} pages, newsflow F1 {overall['newsflow']['f1']:.4f}, "
          f"baseline {overall['baseline']['f1']:.4f}")
    assert overall["newsflow"]["f1"] > overall["baseline"]["f1"]
    for lang, block in figures["by_language"].items():
        assert block["newsflow"]["f1"] >= block["baseline"]["f1"] - 1e-9, (lang, block)


def test_cli_eval_extraction(capsys):
    need(CORPUS.is_dir(), f"html corpus not found at {CORPUS}")
    from pipeline.cli import main

    assert main(["eval", "extraction", str(CORPUS), "--source", "readability", "--every", "15"]) == 0
    out = capsys.readouterr().out
    assert "source=readability" in out and "base F1" in out
