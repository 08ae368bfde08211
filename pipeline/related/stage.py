"""Related stage: bring the related lists up to date with the lake, incrementally.

Reads only what it has not seen (new article batches, the latest dedup generation), updates
the state kept in the lake under ``related/`` (``pipeline.related.state``) through
``pipeline.related.refresh.update``, and writes just the lists that changed to the
warehouse (both backends, ``pipeline.related.sink``).  A rerun over an unchanged lake
computes nothing and writes nothing.

Document vectors are not encoded here: the dedup stage, which runs before this one in every
pass, has already embedded each article with USE-m and stored, in the lake's ``dedup-index``
zone, the normalised mean of its body's sketch sentence vectors (``docvec``) and its title's vector
(``titlevec``); ``dedup_zone.read_docvecs`` reads just those columns.  An article's related
vector is ``normalise(st.TITLE_WEIGHT * titlevec + docvec)``: the body mean alone loses most of
the related quality on our dev set (nDCG@5 0.50 against 0.84), because what tells two
stories of one topic from same-shaped stories of another is mostly in the title (figures in
``docs/related.md``).  Only articles dedup gave no vector (too short for dedup, or nothing
to encode: the stored vector is zeros) are embedded here, from title and summary or lead,
so every canonical still gets a vector; when none is missing the encoder is never loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from pipeline.config import Settings
from pipeline.dedup.encoder import Encoder
from pipeline.extract.anchors import anchor_keys
from pipeline.failpoints import failpoint
from pipeline.lake import dedup_zone, tombstones
from pipeline.lake.articles import batch_ids, read_articles
from pipeline.lake.purge import enforce
from pipeline.lake.store import ObjectStore, open_store
from pipeline.models import Article
from pipeline.related import state as st
from pipeline.related.scoring import Doc, doc_text, fallback_text, terms_of
from pipeline.warehouse.backend import WarehouseBusy

log = logging.getLogger(__name__)
# The related scores (weights, ``related_min_score``) are calibrated on USE-m cosines, so
# related vectors are always USE-m's: dedup's stored vectors are reused when dedup's
# primary encoder is USE-m (the default), otherwise this stage encodes them itself.
ENCODER = "use-m"


@dataclass
class RelatedReport:
    canonicals: int
    rows: int
    new: int = 0
    lists_changed: int = 0
    entered: int = 0
    generation: str | None = None
    full_rewrite: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    encoded: int = 0  # new canonicals embedded here (dedup had no vector for them)
    deferred: str | None = None  # why the lists were not written to the warehouse this time


def _load_encoder(name: str) -> Encoder:
    from pipeline.dedup.encoder import get_encoder

    return get_encoder(name)


def _doc(a: Article, story_id: str, languages: tuple[str, ...]) -> Doc:
    return Doc(a.article_id, story_id, a.language or "", languages,
               a.published_at.timestamp() / 86400.0 if a.published_at else 0.0,
               frozenset(anchor_keys(a.anchors or [])), terms_of(doc_text(a.title, a.body_text)))


def related_vector(stored: dedup_zone.DocVectors) -> np.ndarray:
    """An article's related vector from what dedup stored: title and body mean, the title
    weighted ``st.TITLE_WEIGHT`` (without a title, the body mean alone)."""
    v = stored.docvec if stored.titlevec is None else st.TITLE_WEIGHT * stored.titlevec + stored.docvec
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def _vectors(articles: list[Article], stored: dict[str, dedup_zone.DocVectors],
             encoder: Encoder | Callable[[], Encoder]) -> tuple[dict[str, np.ndarray], int]:
    """Related vectors of ``articles``: from dedup's stored vectors when it has them, else
    the article embedded here from title and summary or lead (``fallback_text``).
    ``encoder`` may be a factory, called only when something must be encoded.  Returns the
    vectors and how many articles were encoded here."""
    out = {a.article_id: related_vector(stored[a.article_id]) for a in articles if a.article_id in stored}
    missing = [a for a in articles if a.article_id not in out]
    if missing:
        enc = encoder if hasattr(encoder, "encode") else encoder()
        mat = np.asarray(enc.encode([fallback_text(a.title, a.summary, a.body_text) for a in missing]),
                         dtype=np.float32)
        mat = mat / np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
        out.update({a.article_id: mat[i] for i, a in enumerate(missing)})
    return out, len(missing)


def _forget(state: st.State, article_id: str) -> None:
    """Drop an article's features, vector and list from the state (issue 19: its current
    revision replaces them); lists that named it keep it until they are recomputed."""
    doc = state.docs.pop(article_id)
    state.df.subtract(doc.terms.keys())
    if state.index is not None and article_id in state.rows:
        state.index.kill([state.rows.pop(article_id)])
    state.lists.pop(article_id, None)


def refresh_related(settings: Settings, *, store: ObjectStore | None = None, encoder: Encoder | None = None,
                    run_ts: datetime | None = None) -> RelatedReport:
    """Update related lists for new and affected story canonicals; write changed lists.
    Records the lake table versions it read (``pipeline.lake.maintenance``: vacuum keeps
    what a consumer has not read)."""
    from pipeline.lake import maintenance

    store = store or open_store(settings)
    pinned = maintenance.pin(store, "related")
    before = tombstones.load(store)
    report = _refresh(settings, store=store, encoder=encoder, run_ts=run_ts)
    maintenance.record(store, "related", pinned)
    now = enforce(store, before)  # a takedown requested while this refresh ran (issue 19)
    new = [t for a, t in now.stones.items() if a not in before.stones]
    if new:
        from pipeline.warehouse.session import with_writer
        from pipeline.warehouse.takedown import apply

        with_writer(settings, lambda be: apply(be, new), what="the takedowns")
    return report


def _refresh(settings: Settings, *, store: ObjectStore, encoder: Encoder | None,
             run_ts: datetime | None) -> RelatedReport:
    import time

    from pipeline.related import sink
    from pipeline.related.refresh import update

    t0 = time.perf_counter()
    store = store or open_store(settings)
    generation = dedup_zone.read_latest(store)
    if generation is None:
        return RelatedReport(0, 0)
    encoder_name = getattr(encoder, "name", ENCODER)
    fp = st.fingerprint(settings, encoder_name)
    batches = set(batch_ids(store))
    gen_id = st.generation_id(generation.generation_id, batches, fp)
    state = st.load(store, fp, settings.related_ef_search) or st.State(fp)
    previous = state.generation
    timings = {"load_state": time.perf_counter() - t0}
    report = RelatedReport(len(state.docs), sum(len(v) for v in state.lists.values()), generation=gen_id)
    if previous == gen_id:
        try:
            report.full_rewrite = sink.sync(settings, state, previous_generation=previous, changed=set(), run_ts=run_ts)
        except WarehouseBusy as exc:
            log.warning("related lists not written to the warehouse (deferred): %s", exc)
            report.deferred = str(exc)
        return report

    t = time.perf_counter()
    fresh = sorted(batches - state.batches)
    by_id: dict[str, Article] = {}
    forgotten: set[str] = set()  # lists dropped here: the warehouse must drop them too
    if fresh:
        for a in read_articles(store, fresh):
            by_id[a.article_id] = a
            if a.article_id in state.docs and state.seen.get(a.article_id, ("",))[0] != (a.batch_id or ""):
                _forget(state, a.article_id)  # a new revision: scored again from its current text
                forgotten.add(a.article_id)
            state.seen[a.article_id] = (a.batch_id or "", a.language or "")
    gone = tombstones.load(store).ids  # taken down: never a canonical, never related
    asg = generation.assignments.select(["article_id", "story_id", "duplicate_of"]).to_pydict()
    langs_of: dict[str, set[str]] = {}
    canon: dict[str, str] = {}
    for aid, story, dup in zip(asg["article_id"], asg["story_id"], asg["duplicate_of"], strict=True):
        if aid not in state.seen:
            continue  # dedup saw a batch this stage has not read: it comes next time
        langs_of.setdefault(story, set()).add(state.seen[aid][1])
        if not dup and aid not in gone:
            canon[aid] = story
    need = [a for a in canon if a not in state.docs and a not in by_id]
    if need:  # an older article that became a story's canonical: read its batch again
        for a in read_articles(store, sorted({state.seen[x][0] for x in need})):
            by_id.setdefault(a.article_id, a)
    timings["read"] = time.perf_counter() - t

    canonicals: dict[str, Doc] = {}
    new_articles: list[Article] = []
    for aid, story in canon.items():
        languages = tuple(sorted(x for x in langs_of.get(story, ()) if x))
        old = state.docs.get(aid)
        if old is not None:
            canonicals[aid] = Doc(aid, story, old.language, languages, old.days, old.anchors, old.terms)
        elif aid in by_id:
            canonicals[aid] = _doc(by_id[aid], story, languages)
            new_articles.append(by_id[aid])
    t = time.perf_counter()
    stored = dedup_zone.read_docvecs(store, {state.seen[a.article_id][0] for a in new_articles},
                                     article_ids=[a.article_id for a in new_articles],
                                     encoder=encoder_name) if new_articles else {}
    timings["read_vectors"] = time.perf_counter() - t
    t = time.perf_counter()
    vectors, encoded = _vectors(new_articles, stored, encoder or (lambda: _load_encoder(encoder_name)))
    timings["encode"] = time.perf_counter() - t
    dim = next(iter(vectors.values())).shape[0] if vectors else (state.index.dim if state.index else 512)
    t = time.perf_counter()
    changed, stats = update(state, canonicals, vectors, settings, dim)
    changed |= forgotten
    timings["update"] = time.perf_counter() - t
    state.batches = set(batches)
    state.dedup_generation = generation.generation_id
    state.generation = gen_id
    t = time.perf_counter()
    st.save(store, state)
    timings["save_state"] = time.perf_counter() - t
    failpoint("mid_related")  # fault tests: lists computed and saved in the lake, not in the warehouse
    t = time.perf_counter()
    try:
        full = sink.sync(settings, state, previous_generation=previous, changed=changed, run_ts=run_ts)
    except WarehouseBusy as exc:  # the lake holds the lists; the next run's sync writes them
        log.warning("related lists not written to the warehouse (deferred): %s", exc)
        return RelatedReport(len(state.docs), sum(len(v) for v in state.lists.values()), generation=gen_id,
                             deferred=str(exc))
    timings["warehouse"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    rows = sum(len(v) for v in state.lists.values())
    log.info("related %s: %d canonicals (%d new, %d encoded here, the rest reused from dedup), "
             "%d lists changed, %d rows, timings %s", gen_id, len(state.docs), stats.new, encoded, len(changed),
             rows, {k: round(v, 2) for k, v in timings.items()})
    return RelatedReport(len(state.docs), rows, stats.new, len(changed), stats.entered, gen_id, full, timings,
                         encoded)
