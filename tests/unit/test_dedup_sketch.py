"""Encode only what each step needs (issue 12, point 8): a sketch per article at index
time, whole sentence vectors only for cross-language pairs whose sketches align, encoded
in one batched call and persisted so no sentence is encoded twice."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from pipeline.config import Settings
from pipeline.dedup.encoder import register_encoder
from pipeline.dedup.sketch import SKETCH_LEAD, SKETCH_MAX, sketch_rows
from pipeline.dedup.stage import dedup
from pipeline.lake import dedup_zone
from pipeline.lake.articles import write_articles
from pipeline.lake.store import LocalStore
from pipeline.models import Article

T0 = datetime(2025, 8, 19, 8, tzinfo=UTC)
WORDS = [f"{a}{b}" for a in ("kal", "mor", "tiv", "sun", "bel", "dag") for b in ("ar", "ok", "in", "et", "up", "os", "ix")]


class KeyEncoder:
    """A sentence's vector is a random unit vector seeded by its last word (the key) plus
    a shared topic, so a sentence and its "translation" (same key, other words) have
    cosine 1.0, two keys about 0.2 (sentences) and two documents about 0.8 (means, as
    real news does).  Counts every sentence it encodes."""

    name = "keyenc"
    dim = 64
    languages = frozenset({"en", "ar"})

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts):
        texts = list(texts)
        self.encoded += texts
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = 0.5 * _unit("news") + _unit(t.rstrip(".").split()[-1])  # news text shares a topic
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _unit(key: str) -> np.ndarray:
    v = np.random.default_rng(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)).standard_normal(64)
    return v / np.linalg.norm(v)


def body(keys: list[str], lang: str) -> str:
    lead = "the report says that" if lang == "en" else "يقول التقرير إن"
    return " ".join(f"{lead} item {k}." for k in keys)


def art(aid: str, keys: list[str], lang: str, hours: int = 0) -> Article:
    url = f"https://{aid}.example/a"
    return Article(article_id=aid, url=url, canonical_url=url, feed_url=url, source_domain=f"{aid}.example",
                   guid=url, title="", summary="", body_text=body(keys, lang), language=lang,
                   language_confidence=1.0, published_at=T0 + timedelta(hours=hours),
                   published_at_source="feed", published_at_flag=None, fetched_at=T0)


@pytest.fixture()
def setup(tmp_path):
    enc = KeyEncoder()
    register_encoder("keyenc", lambda: enc)
    from pipeline.dedup import encoder as encmod

    encmod._CACHE.pop("keyenc", None)
    return LocalStore(tmp_path / "lake"), Settings(lake=str(tmp_path / "lake"), dedup_encoders="keyenc"), enc


def test_sketch_rows_lead_and_evenly_spaced():
    assert sketch_rows(5) == [0, 1, 2, 3, 4]
    rows = sketch_rows(40)
    assert len(rows) == SKETCH_MAX and rows[:SKETCH_LEAD] == list(range(SKETCH_LEAD)) and rows[-1] == 39
    gaps = np.diff(rows[SKETCH_LEAD:])
    assert gaps.max() - gaps.min() <= 1  # evenly spaced: a mid-article excerpt meets some


def test_whole_vectors_only_for_aligned_pairs_and_never_twice(setup):
    store, settings, enc = setup
    keys = WORDS[:30]
    write_articles(store, "20250819T080000Z-aaaa", [art("src", keys, "en"), art("other", WORDS[30:], "en", 1)])
    dedup(settings, store=store)
    assert len(enc.encoded) == SKETCH_MAX + min(SKETCH_MAX, 12)  # two sketches, nothing whole
    (src, _) = sorted(dedup_zone.read_index(store, "20250819T080000Z-aaaa"), key=lambda d: d.id != "src")
    assert src.sentvec is None and len(src.sketchvec) == SKETCH_MAX  # null: not yet encoded
    enc.encoded.clear()
    # an Arabic excerpt from the middle of the source: found, and the source encoded whole once
    write_articles(store, "20250819T120000Z-bbbb", [art("excerpt", keys[10:20], "ar", 4)])
    dedup(settings, store=store)
    rows = {r["article_id"]: r for r in dedup_zone.read_latest(store).assignments.to_pylist()}
    assert rows["excerpt"]["story_id"] == rows["src"]["story_id"]
    assert rows["other"]["story_id"] != rows["src"]["story_id"]
    # the excerpt's 10 sentences (its whole sketch) + the source's 18 rows not in its sketch
    assert len(enc.encoded) == 10 + (30 - SKETCH_MAX)
    assert store.list("dedup-sentvec/")
    enc.encoded.clear()
    write_articles(store, "20250819T160000Z-cccc", [art("excerpt2", keys[12:22], "ar", 8)])
    dedup(settings, store=store)
    assert len(enc.encoded) == 10  # the source's whole vectors came from the lake
    rows = {r["article_id"]: r for r in dedup_zone.read_latest(store).assignments.to_pylist()}
    assert rows["excerpt2"]["story_id"] == rows["src"]["story_id"]


def test_explain_reports_the_sketch_gate(setup):
    from pipeline.dedup.explain import explain_stored

    store, settings, _ = setup
    write_articles(store, "20250819T080000Z-aaaa", [art("src", WORDS[:30], "en"),
                                                    art("unrel", WORDS[30:], "ar", 1)])
    dedup(settings, store=store)
    out = explain_stored(store, settings, "src", "unrel")
    assert out["decision"]["duplicate"] is False
    assert out["candidate_sources"] == ["ann"]  # similar documents: proposed, then gated
    assert out["edge"]["sketch_gate"]["passed"] is False and "sketches" in out["edge"]["reason"]
