"""The real-language corpus of the headline dedup benchmark (``bench/dedup_real_corpus.py``).

The benchmark itself never runs in CI; this checks, at a tiny N, that its generator is
deterministic and plants what its ground truth says, since a wrong ground truth would make
every recall and false-merge figure of the headline meaningless.  It reads the real corpora
(skipped locally when absent, a failure under ``CI=true``).
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import need

N = 200


@pytest.fixture(scope="module")
def pool(corpora):
    from bench.dedup_real_corpus import load_pool

    need((corpora / "parallel" / "ntrex-dev").is_dir(), f"ntrex-dev not found under {corpora}")
    return load_pool(corpora)


@pytest.fixture(scope="module")
def corpus(pool):
    from bench.dedup_real_corpus import Generator

    return Generator(pool, seed=3).generate(N)


def _flat(body: str) -> str:
    """Whitespace-normalised body without the outlet chrome lines the generator appends."""
    from bench.dedup_real_corpus import CHROME

    chrome = {c for lines in CHROME.values() for c in lines}
    return " ".join(" ".join(p for p in body.split("\n\n") if p not in chrome).split())


def _shared_sentences(a: str, b: str) -> int:
    from pipeline.extract.textnorm import sentences

    flat = _flat(b)
    return sum(1 for s in sentences(a) if len(s) > 30 and s in flat)


def test_deterministic(pool, corpus):
    from bench.dedup_real_corpus import Generator

    again = Generator(pool, seed=3).generate(N)
    assert again.fingerprint() == corpus.fingerprint()
    assert Generator(pool, seed=4).generate(N).fingerprint() != corpus.fingerprint()


def test_known_part_does_not_depend_on_the_new_ones(pool):
    """The benchmark generates N known + 1,000 new articles: the known N must be the same
    corpus whatever follows them, or figures at one N would not be comparable."""
    from bench.dedup_real_corpus import Generator

    a = Generator(pool, seed=3).generate(150, known=120).head(120)
    b = Generator(pool, seed=3).generate(200, known=120).head(120)
    assert a.fingerprint() == b.fingerprint()


def test_mix_and_size(corpus):
    stats = corpus.stats()
    share = stats["language_share"]
    assert stats["articles"] == N
    assert 0.55 <= share["en"] <= 0.85 and 0.15 <= share["ar"] <= 0.35
    assert 1500 <= stats["mean_body_chars"] <= 3500
    assert {"exact", "near", "translation"} <= set(stats["plants"])
    assert {"same_event", "template"} <= set(stats["hard_negatives"])
    assert len({a.body_text for a in corpus.articles if corpus.root[a.article_id] == a.article_id}) \
        == sum(1 for a in corpus.articles if corpus.root[a.article_id] == a.article_id)  # originals distinct


def test_plants_are_what_they_say(corpus):
    by_id = {a.article_id: a for a in corpus.articles}
    for p in corpus.plants:
        copy, src = by_id[p.copy], by_id[p.source]
        assert copy.published_at > src.published_at and p.delay_days > 0
        assert corpus.root[p.copy] == corpus.root[p.source]
        assert copy.source_domain != src.source_domain or p.kind == "translation"
        if p.kind == "exact":
            assert copy.body_text == src.body_text
        elif p.kind == "near":
            c, s = _flat(copy.body_text), _flat(src.body_text)
            assert copy.language == src.language and c != s
            if p.detail == "trimmed_end":
                assert s.startswith(c) and len(c) < len(s)
            elif p.detail == "excerpt":
                assert c in s and not s.startswith(c)
            elif p.detail == "added_intro":
                assert c.endswith(s) and len(c) > len(s)
            else:  # edited lead: everything after the lead is the source's
                common = next(i for i in range(min(len(c), len(s)) + 1)
                              if i == min(len(c), len(s)) or c[-1 - i] != s[-1 - i])
                assert common >= 0.4 * len(s)
        else:
            assert copy.language != src.language
            assert p.detail.split(":")[1] == f"{src.language}-{copy.language}"
    for x in corpus.negatives:
        a, b = by_id[x.a], by_id[x.b]
        assert corpus.root[x.a] != corpus.root[x.b] and a.body_text != b.body_text
        if x.kind == "template":  # the same text up to names, numbers and years
            mask = re.compile(r"[0-9\u0660-\u0669\u06F0-\u06F9]+|\b[A-Z][a-z]{2,}\b")
            assert a.language == b.language
            assert mask.sub("#", " ".join(a.body_text.split())) == mask.sub("#", " ".join(b.body_text.split()))
        elif x.kind == "same_event":  # a different article sharing one or two sentences
            assert a.language == b.language
            assert 1 <= _shared_sentences(a.body_text, b.body_text) <= 8
        else:
            assert a.language != b.language
