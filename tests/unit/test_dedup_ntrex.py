"""Translation detection measured on the real development set ``ntrex-dev``.

NTREX holds 30 English news documents with human translations (Arabic, Persian,
Sorani Kurdish), line-aligned; ``DOCUMENT_IDS.tsv`` maps each line to its document.
Every en-ar pair of the same document must be accepted and no pair of different
documents (any languages) may be; Persian and Kurdish, which USE-m does not cover,
must never merge unrelated documents.  Run with ``-s`` to see the score distributions.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from pipeline.config import Settings
from pipeline.dedup import find_duplicates
from pipeline.dedup.encoder import get_encoder
from pipeline.dedup.index import index_articles
from pipeline.dedup.verify import verify_translation
from pipeline.models import Article
from tests.conftest import SHARED, need

pytestmark = pytest.mark.slow

NTREX = SHARED / "corpora" / "parallel" / "ntrex-dev"
FILES = {
    "en": "newstest2019-src.eng.txt",
    "ar": "newstest2019-ref.arb.txt",
    "fa": "newstest2019-ref.fas.txt",
    "ckb": "newstest2019-ref.ckb-Arab.txt",
}
T0 = datetime(2025, 1, 1, tzinfo=UTC)
S = Settings()


class CachingEncoder:
    """USE-m with a per-sentence cache, so the end-to-end run re-uses the vectors."""

    def __init__(self) -> None:
        self.inner = get_encoder("use-m")
        self.name, self.dim, self.languages = self.inner.name, self.inner.dim, self.inner.languages
        self.cache: dict[str, np.ndarray] = {}

    def encode(self, texts):
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            self.cache.update(zip(todo, self.inner.encode(todo), strict=True))
        return np.vstack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.dim))


@pytest.fixture(scope="module")
def corpus():
    need((NTREX / "DOCUMENT_IDS.tsv").is_file(), f"ntrex-dev corpus not found at {NTREX}")
    doc_ids = (NTREX / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    articles: dict[tuple[str, str], Article] = {}
    for lang, name in FILES.items():
        path = NTREX / name
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(doc_ids), name
        by_doc: dict[str, list[str]] = defaultdict(list)
        for doc, line in zip(doc_ids, lines, strict=True):
            by_doc[doc].append(line)
        for doc, ls in by_doc.items():
            url = f"https://{lang}.ntrex.test/{doc}"
            articles[(lang, doc)] = Article(
                article_id=f"{lang}:{doc}", url=url, canonical_url=url, feed_url=url,
                source_domain=f"{lang}.ntrex.test", guid=url, title="", summary="",
                body_text="\n".join(ls), language=lang, language_confidence=1.0,
                # the English source first, translations six hours later
                published_at=T0 if lang == "en" else T0 + timedelta(hours=6),
                published_at_source="feed", published_at_flag=None,
                fetched_at=T0,
            )
    encoder = CachingEncoder()
    keys = sorted(articles)
    docs = {d.id: d for d in index_articles([articles[k] for k in keys], encoder, min_text_chars=0,
                                            lsh_threshold=S.lsh_threshold)}
    embedded = {k: docs[articles[k].article_id] for k in keys}
    return articles, embedded, encoder, sorted(set(doc_ids))


def _pairs(corpus, l1, l2, same_doc):
    articles, emb, encoder, docs = corpus
    if not any(k[0] == l1 for k in emb) or not any(k[0] == l2 for k in emb):
        return []
    out = []
    for d1 in docs:
        for d2 in docs:
            if (d1 == d2) != same_doc or (l1 == l2 and d1 >= d2):
                continue
            out.append(((d1, d2), verify_translation(emb[(l1, d1)], emb[(l2, d2)], [encoder], S)))
    return out


def _report(label, results):
    share = [r["region"]["share"] for _, r in results]
    cos = [r["doc_cosine"] for _, r in results]
    print(f"{label:12s} n={len(results):4d} share min/median/max "
          f"{min(share):.2f}/{statistics.median(share):.2f}/{max(share):.2f}  doc cosine "
          f"{min(cos):.2f}..{max(cos):.2f}  strong anchors "
          f"{sum(r['strong_anchors'] for _, r in results)}  accepted "
          f"{sum(r['accepted'] for _, r in results)}")


def test_every_true_en_ar_pair_accepted(corpus):
    results = _pairs(corpus, "en", "ar", same_doc=True)
    assert len(results) == 30
    _report("true en-ar", results)
    rejected = [(d, r["region"], r["reason"]) for d, r in results if not r["accepted"]]
    assert rejected == []
    assert min(r["doc_cosine"] for _, r in results) >= S.translation_candidate_cosine
    for lang in ("fa", "ckb"):
        got = _pairs(corpus, "en", lang, same_doc=True)
        if got:
            _report(f"true en-{lang}", got)  # known limitation: USE-m does not cover these


@pytest.mark.parametrize(
    "l1,l2",
    [("en", "ar"), ("ar", "ar"), ("en", "en"), ("fa", "fa"), ("ckb", "ckb"), ("fa", "ckb"),
     ("en", "fa"), ("ar", "fa"), ("ar", "ckb"), ("en", "ckb")],
)
def test_no_false_pair_accepted(corpus, l1, l2):
    results = _pairs(corpus, l1, l2, same_doc=False)
    need(bool(results), f"{l1} or {l2} not in this copy of ntrex-dev")
    _report(f"false {l1}-{l2}", results)
    accepted = [(d, r["region"]["share"], r["reason"]) for d, r in results if r["accepted"]]
    if l1 == l2 == "en":
        # same-language pairs never reach the translation stage (near only); on English,
        # where the encoder is strong, a 4-sentence document can still reach 0.5 by chance
        assert all(share <= 0.5 for _, share, _ in accepted)
        return
    assert accepted == []
    if "fa" not in (l1, l2) and "ckb" not in (l1, l2):
        assert max(r["region"]["share"] for _, r in results) < 0.35


def test_end_to_end_stories(corpus):
    """find_duplicates over all documents of all languages at once: 30 en-ar stories and
    nothing else merged (in particular no Persian/Kurdish giant story)."""
    articles, _, encoder, docs = corpus
    result = find_duplicates(list(articles.values()), S.replace(dedup_encoders="use-m"), encoder=encoder)
    stories: dict[str, set[str]] = defaultdict(set)
    for asg in result.assignments.values():
        stories[asg.story_id].add(asg.article_id)
    multi = [sorted(m) for m in stories.values() if len(m) > 1]
    print(f"end-to-end: {result.counts}")
    assert sorted(multi) == sorted([f"ar:{d}", f"en:{d}"] for d in docs)
    assert result.counts["translation"] == 30
    for d in docs:
        asg = result.assignments[f"ar:{d}"]
        assert (asg.duplicate_of, asg.dup_kind) == (f"en:{d}", "translation")


def test_gate_ntrex_devset(corpus):
    """The issue-12 gates on ntrex-dev (converted by ``ntrex_devset``; text not in the
    repo), with the default encoder chain (USE-m, then e5 for Persian and Kurdish):
    en-ar recall 1.0, en-fa >= 0.95, and no wrong merge over *all* item pairs."""
    from pipeline.dedup.evaluate import evaluate, format_full, ntrex_devset, targets_met

    _, _, encoder, _ = corpus
    items, pairs = ntrex_devset(NTREX)
    report = evaluate(items, pairs, S, encoder=encoder, truth=lambda x: x.split(":", 1)[1])
    print(format_full(report))
    assert targets_met(report, "ntrex") == []
    assert report["language_pairs"]["ar-en"]["recall"] == 1.0
    assert report["language_pairs"]["en-fa"]["recall"] >= 0.95
    assert report["wrong_merges_all_pairs"] == 0 and report["labels"]["unrelated"]["merged"] == 0
