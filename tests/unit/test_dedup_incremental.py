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
    story_before = {r["article_id"]: r["story_id"] for r in dedup_zone.read_latest(store).assignments.to_pylist()}
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
    # the story keeps its id when the earlier original arrives (links editors shared)
    assert rows["thenational"]["story_id"] == rows["almada"]["story_id"] == story_before["almada"]
    edge = [e for e in gen.edges.to_pylist() if e["kind"] == "translation"]
    assert len(edge) == 1 and '"aligned_pairs"' in edge[0]["evidence"]

    before = _snapshot(store)
    enc.calls.clear()
    r3 = dedup(settings, store=store)
    assert (r3.generation_id, r3.batches_matched, enc.calls) == (r2.generation_id, 0, [])
    assert _snapshot(store) == before


def test_time_never_vetoes_a_translation_years_later(setup):
    store, settings, _ = setup
    old = art("old", EN, "en", hours=-24 * 365 * 3.5)  # the original, 3.5 years earlier
    write_articles(store, "20220201T000000Z-cccc", [old])
    dedup(settings, store=store)
    assert [d.id for d in dedup_zone.load_known(store, ["20220201T000000Z-cccc"])] == ["old"]
    new = art("new", AR, "ar")
    write_articles(store, "20250819T000000Z-dddd", [new])
    r = dedup(settings, store=store)
    assert r.counts["multi_article_stories"] == 1
    rows = {x["article_id"]: x for x in dedup_zone.read_latest(store).assignments.to_pylist()}
    assert rows["new"]["duplicate_of"] == "old" and rows["new"]["dup_kind"] == "translation"
    assert rows["new"]["story_id"] == rows["old"]["story_id"] == "s_old"


def test_persisted_vectors_round_trip(setup):
    store, settings, _ = setup
    write_articles(store, "20250819T000000Z-eeee", [art("en1", EN, "en")])
    dedup(settings, store=store)
    (doc,) = dedup_zone.read_index(store, "20250819T000000Z-eeee")
    fresh = get_encoder("use-m").encode(doc.sentences)
    assert np.abs(doc.sentvec - fresh).max() < 2e-3  # float16 storage
    (light,) = dedup_zone.load_known(store, ["20250819T000000Z-eeee"])
    assert light.sentences is None and light.shingle_seq is None and light.location is not None
    dedup_zone.loader(store)([light])
    assert light.sentences == doc.sentences and light.spans == doc.spans
    assert np.array_equal(light.shingle_seq, doc.shingle_seq) and len(doc.shingle_seq) > len(doc.shingles) / 2
