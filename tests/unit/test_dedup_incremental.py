"""The lake stage is incremental: a batch is indexed once and matched against the
persisted index of the whole history; a late original re-points its translation and the
story keeps its id; a rerun changes nothing; ``explain`` replays the stage's decision;
a change of decision code (not only of settings) recomputes stored edges."""

from __future__ import annotations

import json

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


def test_explain_replays_the_stage_and_shows_the_path(setup, capsys, monkeypatch):
    from pipeline.cli import main
    from pipeline.dedup.explain import explain_stored

    store, settings, _ = setup
    original = art("thenational", EN, "en")
    copy = art("copy", EN.replace("Tuesday", "Wednesday"), "en", hours=2)
    write_articles(store, "20250819T100000Z-aaaa", [original, art("alwaha", AR_OTHER, "ar", hours=7)])
    write_articles(store, "20250820T100000Z-bbbb", [copy, art("almada", AR, "ar", hours=6)])
    dedup(settings, store=store)
    gen = {r["article_id"]: r["story_id"] for r in dedup_zone.read_latest(store).assignments.to_pylist()}
    for a, b in [("almada", "thenational"), ("copy", "thenational"), ("almada", "alwaha"),
                 ("alwaha", "thenational"), ("almada", "copy")]:
        out = explain_stored(store, settings, a, b)
        assert out["stored_under_current_rules"] is True and "warning" not in out
        assert out["story"]["same_story"] == (gen[a] == gen[b])
        assert out["decision"]["duplicate"] == (out["stored_edge"] is not None)
    out = explain_stored(store, settings, "almada", "thenational")
    assert out["decision"]["kind"] == "translation" and out["matched_in_batch"] == "20250820T100000Z-bbbb"
    assert "ann" in out["candidate_sources"] and out["story"]["direct"] is True
    # the same event in Arabic, another article: never a candidate that verifies
    assert explain_stored(store, settings, "almada", "alwaha")["decision"]["duplicate"] is False
    # through the CLI, with the lake from the environment
    monkeypatch.setenv("NEWSFLOW_LAKE", settings.lake)
    monkeypatch.setenv("NEWSFLOW_DEDUP_ENCODERS", settings.dedup_encoders)
    capsys.readouterr()
    assert main(["dedup", "explain", "almada", "thenational"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["decision"] == out["decision"] and printed["story"]["path"] == out["story"]["path"]
    assert main(["dedup", "explain", "almada", "nope"]) == 2
    assert "not in the dedup index: nope" in capsys.readouterr().err


def test_changed_decision_code_recomputes_stored_edges(setup, monkeypatch):
    from pipeline.dedup import rules

    store, settings, enc = setup
    write_articles(store, "20250819T100000Z-aaaa", [art("thenational", EN, "en"), art("almada", AR, "ar", hours=6)])
    first = dedup(settings, store=store)
    assert dedup(settings, store=store).batches_matched == 0  # nothing changed: nothing redone
    real = rules.code_hash

    def changed(modules):
        return real(modules) + ("-edited" if "pipeline.dedup.verify" in modules else "")

    monkeypatch.setattr(rules, "code_hash", changed)
    again = dedup(settings, store=store)
    assert again.batches_matched == 1 and again.generation_id != first.generation_id
    # the index did not depend on the edited module, so nothing was re-encoded
    assert dedup_zone.index_manifest(store, "20250819T100000Z-aaaa").meta["fingerprint"] == rules.index_fingerprint(settings)
