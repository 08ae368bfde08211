"""The lake stage is incremental: a batch is indexed once and matched against the
persisted index inside the window; a late original re-points its translation; a rerun
changes nothing."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from pipeline.config import Settings
from pipeline.dedup.encoder import get_encoder, register_encoder
from pipeline.dedup.stage import dedup
from pipeline.lake import dedup_zone
from pipeline.lake.articles import write_articles
from pipeline.lake.store import LocalStore
from tests.unit.test_dedup_translation import AR, AR_OTHER, EN, art


class CountingEncoder:
    """USE-m that counts the sentences it encodes (to prove nothing is re-encoded)."""

    name = "counting"
    dim = 512

    def __init__(self) -> None:
        self.inner = get_encoder("use-m")
        self.languages = self.inner.languages
        self.calls: list[int] = []

    def encode(self, texts):
        texts = list(texts)
        self.calls.append(len(texts))
        return self.inner.encode(texts)


@pytest.fixture()
def setup(tmp_path):
    enc = CountingEncoder()
    register_encoder("counting", lambda: enc)
    from pipeline.dedup import encoder as encmod

    encmod._CACHE.pop("counting", None)
    settings = Settings(lake=str(tmp_path / "lake"), dedup_encoders="counting")
    return LocalStore(tmp_path / "lake"), settings, enc


def _snapshot(store) -> dict[str, bytes]:
    return {k: store.get(k) for k in sorted(store.list(""))}


def test_late_original_repoints_translation_and_rerun_is_noop(setup):
    store, settings, enc = setup
    translation = art("almada", AR, "ar", hours=6, translator="Hamid",
                      original_outlet="The National", original_domain="thenational.example")
    other = art("alwaha", AR_OTHER, "ar", hours=7)
    write_articles(store, "20250819T100000Z-aaaa", [translation, other])
    r1 = dedup(settings, store=store)
    assert r1.batches_matched == 1 and r1.counts["multi_article_stories"] == 0
    first_calls = sum(enc.calls)
    assert first_calls > 0

    # the English original arrives a day later, published before the translation
    original = art("thenational", EN, "en")
    write_articles(store, "20250820T100000Z-bbbb", [original])
    enc.calls.clear()
    r2 = dedup(settings, store=store)
    assert r2.batches_matched == 1
    assert sum(enc.calls) == len([s for s in EN.splitlines() if s]) + 1  # only the new article (+ its title)
    gen = dedup_zone.read_latest(store)
    rows = {r["article_id"]: r for r in gen.assignments.to_pylist()}
    assert rows["almada"]["duplicate_of"] == "thenational"
    assert rows["almada"]["dup_kind"] == "translation"
    assert rows["thenational"]["duplicate_of"] is None
    assert rows["alwaha"]["story_id"] != rows["almada"]["story_id"]  # same event, other article
    edge = [e for e in gen.edges.to_pylist() if e["kind"] == "translation"]
    assert len(edge) == 1 and '"aligned_pairs"' in edge[0]["evidence"]

    before = _snapshot(store)
    enc.calls.clear()
    r3 = dedup(settings, store=store)
    assert (r3.generation_id, r3.batches_matched, enc.calls) == (r2.generation_id, 0, [])
    assert _snapshot(store) == before


def test_known_set_is_limited_to_the_window(setup):
    store, settings, _ = setup
    old = art("old", EN, "en", hours=-24 * (settings.dedup_window_days + 3))
    write_articles(store, "20250801T000000Z-cccc", [old])
    dedup(settings, store=store)
    new = art("new", AR, "ar")
    idx = dedup_zone.read_index(store, "20250801T000000Z-cccc")
    assert len(idx) == 1 and idx[0].sentvec.shape == (8, 512)
    assert dedup_zone.load_window(store, ["20250801T000000Z-cccc"],
                                  new.published_at - timedelta(days=settings.dedup_window_days),
                                  new.published_at + timedelta(days=settings.dedup_window_days)) == []
    write_articles(store, "20250819T000000Z-dddd", [new])
    r = dedup(settings, store=store)
    assert r.counts["multi_article_stories"] == 0  # the translation is outside the window


def test_persisted_vectors_round_trip(setup):
    store, settings, _ = setup
    write_articles(store, "20250819T000000Z-eeee", [art("en1", EN, "en")])
    dedup(settings, store=store)
    (doc,) = dedup_zone.read_index(store, "20250819T000000Z-eeee")
    fresh = get_encoder("use-m").encode(doc.sentences)
    assert np.abs(doc.sentvec - fresh).max() < 2e-3  # float16 storage
    (light,) = dedup_zone.load_window(store, ["20250819T000000Z-eeee"], doc.published_at, doc.published_at)
    assert light.sentences is None and light.location is not None
    dedup_zone.loader(store)([light])
    assert light.sentences == doc.sentences
