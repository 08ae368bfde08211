"""The secondary encoder's vectors (e5 in production) are encoded once and persisted
(``pipeline.lake.dedup_secvec``): a later batch encodes only its own documents, decides
exactly as one run over everything would, and a takedown removes the article's rows."""

from __future__ import annotations

import pytest

from pipeline.config import Settings
from pipeline.dedup.encoder import USE_M_LANGUAGES, get_encoder, register_encoder
from pipeline.dedup.stage import dedup
from pipeline.lake import dedup_secvec, dedup_zone
from pipeline.lake.articles import write_articles
from pipeline.lake.dedup_sentvec import read_object
from pipeline.lake.purge import purge_objects
from pipeline.lake.store import LocalStore
from tests.unit.test_dedup_translation import AR, AR_OTHER, EN, art


class Counting:
    """USE-m under another name that records every text it encodes."""

    def __init__(self, name: str, languages: frozenset[str]) -> None:
        self.inner = get_encoder("use-m")
        self.name, self.dim, self.languages = name, self.inner.dim, languages
        self.texts: list[str] = []

    def encode(self, texts):
        texts = list(texts)
        self.texts += texts
        return self.inner.encode(texts)


@pytest.fixture()
def chain():
    from pipeline.dedup import encoder as encmod

    primary = Counting("p-count", USE_M_LANGUAGES)
    secondary = Counting("s-count", USE_M_LANGUAGES | {"fa"})  # covers what the primary does not, as e5
    for enc in (primary, secondary):
        register_encoder(enc.name, lambda enc=enc: enc)
        encmod._CACHE.pop(enc.name, None)
    yield primary, secondary
    for enc in (primary, secondary):
        encmod._CACHE.pop(enc.name, None)


def _batches():
    # a "Persian" article (the Arabic text labelled fa: the primary does not cover fa, so
    # the secondary encoder is asked for it and its other-language mates)
    first = [art("en1", EN, "en"), art("ar1", AR_OTHER, "ar", hours=3), art("fa1", AR, "fa", hours=6)]
    second = [art("fa2", AR_OTHER.replace("طرابلس", "بنغازي"), "fa", hours=30)]
    return [("20250819T100000Z-aaaa", first), ("20250820T100000Z-bbbb", second)]


def _assignments(store) -> list[dict]:
    return sorted(dedup_zone.read_latest(store).assignments.to_pylist(), key=lambda r: r["article_id"])


def test_known_documents_are_never_encoded_again_and_decide_alike(tmp_path, chain):
    _, secondary = chain
    settings = Settings(dedup_encoders="p-count,s-count")
    (b1, first), (b2, second) = _batches()

    store = LocalStore(tmp_path / "runs")
    write_articles(store, b1, first)
    dedup(settings, store=store)
    assert secondary.texts, "the uncovered article asked the secondary encoder for vectors"
    assert store.list(f"{dedup_secvec.PREFIX}/"), "what it encoded is persisted"
    write_articles(store, b2, second)
    secondary.texts.clear()
    dedup(settings, store=store)
    known = {s for a in first for s in a.body_text.splitlines() if s}
    new = {s for a in second for s in a.body_text.splitlines() if s}
    again = [t for t in secondary.texts if t in known and t not in new]
    assert again == []  # before dedup_secvec: every known mate's lead and whole text again

    whole = LocalStore(tmp_path / "whole")  # the same history in one run
    write_articles(whole, b1, first)
    write_articles(whole, b2, second)
    dedup(settings, store=whole)
    assert _assignments(store) == _assignments(whole)
    edges = [{k: e[k] for k in ("a", "b", "kind", "score")} for e in dedup_zone.read_latest(store).edges.to_pylist()]
    edges_whole = [{k: e[k] for k in ("a", "b", "kind", "score")}
                   for e in dedup_zone.read_latest(whole).edges.to_pylist()]
    assert edges == edges_whole


def test_a_takedown_removes_the_articles_secondary_vectors(tmp_path, chain):
    settings = Settings(dedup_encoders="p-count,s-count")
    store = LocalStore(tmp_path / "lake")
    (b1, first), _ = _batches()
    write_articles(store, b1, first)
    dedup(settings, store=store)

    def held() -> set[str]:
        return {r["article_id"] for k in store.list(f"{dedup_secvec.PREFIX}/")
                for r in read_object(store, k, ["article_id"]).to_pylist()}

    assert "fa1" in held()
    purge_objects(store, {"fa1"})
    assert "fa1" not in held() and held()
