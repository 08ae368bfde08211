"""Real-language news corpus for the headline dedup benchmark, built at run time.

Issue 12 point 8: the headline figure must run the *real* encoder chain (USE-m, e5) on
text those encoders understand.  This module therefore writes no text of its own beyond a
few chrome lines: every sentence comes from the real corpora in ``../shared/corpora``
(read here, never copied into the repository):

* ``parallel/ntrex-dev``: 447 English news lines aligned with professional Arabic and
  Persian translations; the only source of *aligned* text, so every planted translation
  is built from it (same line indices in the other language);
* ``republished/items.jsonl``, ``html/fundus`` ground-truth bodies and
  ``html/readability`` expected pages: monolingual sentences (en, ar, fa, fr, es).

An article is a sequence of pool sentences (``Pool``), drawn without replacement and in
random order, with its numbers (and, in Latin script, mid-sentence capitalised names)
remapped per article so that two originals reusing a pool sentence still differ in the
tokens anchors look at.  Random order matters: two originals that happen to share pool
sentences must not share an *in-order region*, which would make them real partial copies.

Planted, deterministically from the seed (blocks of 100 slots hold an exact mix, shuffled):

* ``exact`` copies (another outlet, same text);
* ``near`` copies: ``edited_lead``, ``added_intro``, ``trimmed_end``, ``excerpt`` (a run
  from the middle), some with outlet chrome;
* ``translation``: the source's ntrex line indices in another language (en->ar, en->fa,
  ar->en, ar->fa), full, abridged, lead-only or a middle part; some credit a translator
  and the original outlet;
* hard negatives that must stay apart: ``same_event`` (a different article, same or other
  language, that shares one or two sentences and the source's numbers and names) and
  ``template`` (a short, number- and name-rich wire story republished with *other* names,
  numbers and years).

Copies are published hours to months after their source, some years later (an
"archive" of older coverage on a few dozen days spreads over the four years before the
stream starts).  ``Corpus`` keeps the ground truth: each article's story root, every
planted copy with its source, and every hard-negative pair.

Known limitation, stated so it is not mistaken for a pipeline property: the real pools
are small (about 5,000 English, 570 Arabic, 440 Persian, 220 French and 380 Spanish
sentences), so at 100,000 articles every pool sentence recurs in hundreds of articles
(remapped numbers and names aside).  Real news repeats far less.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.dedup_real_pool import (  # noqa: F401  (load_pool: callers import it from here too)
    _DIGITS,
    ORIGINAL_LANG_P,
    PARALLEL_LANGS,
    Pool,
    Variation,
    _name_slots,
    corpora_dir,
    load_pool,
    shared_dir,
)
from bench.dedup_real_truth import DELAYS, Corpus, HardNegative, Plant
from pipeline.models import Article

PARALLEL_SHARE = {"en": 0.25, "ar": 0.5, "fa": 1.0}  # originals built from ntrex lines
TRANSLATE_FROM = {"en": 0.85, "ar": 0.15}
TRANSLATE_TO = {"en": {"ar": 0.85, "fa": 0.15}, "ar": {"en": 0.7, "fa": 0.3}}
# one block of 100 slots: kinds and how many of each (shuffled per block)
BLOCK = {"original": 60, "wire_original": 4, "exact": 6, "edited_lead": 2, "added_intro": 2,
         "trimmed_end": 2, "excerpt": 2, "translation": 12, "same_event": 6, "template": 4}
NEAR_KINDS = ("edited_lead", "added_intro", "trimmed_end", "excerpt")
MEAN_CHARS = 2850  # for full originals; excerpts, abridged copies and wire stories bring the corpus mean to ~2,500
CHROME = {"en": ["Share this article", "Subscribe to our newsletter for the latest updates."],
          "ar": ["شارك هذا المقال", "اشترك في نشرتنا الإخبارية لتصلك آخر الأخبار."],
          "fa": ["این مطلب را به اشتراک بگذارید"], "fr": ["Partager cet article"],
          "es": ["Compartir este artículo"]}


# ----------------------------------------------------------------------------- corpus


@dataclass
class Doc:
    """How one article was made (kept for copies, translations and negatives of it)."""

    k: int
    article_id: str
    lang: str
    kind: str
    units: list[str]  # final sentences, in order
    base: list[str]  # the same before variation (templates re-vary these)
    parallel: list[int] | None  # ntrex line per unit, when built from aligned lines
    var: Variation
    root: str
    outlet: int
    published: datetime
    keys: list[str] = field(default_factory=list)  # pool sentence per unit: "p:<line>" or "m:<lang>:<i>"


def _pick(rng: np.random.Generator, probs: dict[str, float]) -> str:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


class _Timeline:
    """Docs of one category in publication order, to find a source by delay."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.docs: list[Doc] = []

    def add(self, d: Doc) -> None:
        self.times.append(d.published.timestamp())
        self.docs.append(d)

    def before(self, t: datetime, delay_days: float, rng: np.random.Generator) -> Doc | None:
        if not self.docs:
            return None
        i = bisect_right(self.times, t.timestamp() - delay_days * 86400.0)
        lo = max(0, i - 5)
        i = lo + int(rng.integers(max(1, i - lo)))  # one of the five nearest, or the oldest
        return self.docs[min(i, len(self.docs) - 1)]


class Generator:
    """Deterministic corpus builder: ``Generator(pool, seed).generate(n)``."""

    def __init__(self, pool: Pool, seed: int = 1, per_day: int = 1000,
                 start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
                 archive_share: float = 0.1, archive_days: int = 48, archive_years: float = 4.0) -> None:
        self.pool, self.seed, self.per_day, self.start = pool, seed, per_day, start
        self.archive_share, self.archive_days, self.archive_years = archive_share, archive_days, archive_years
        self.mean_len = {lang: float(np.mean([len(s) for s in v])) for lang, v in pool.mono.items() if v}

    # -- times and kinds
    def _time(self, k: int, archive: int) -> datetime:
        if k < archive:  # older coverage on a few dozen days over the last years
            per = max(1, math.ceil(archive / self.archive_days))
            day = k // per
            span = self.archive_years * 365.0
            return (self.start - timedelta(days=span) + timedelta(days=span * day / self.archive_days)
                    + timedelta(seconds=60.0 * (k % per)))
        return self.start + timedelta(seconds=86400.0 * (k - archive) / self.per_day)

    def _kinds(self, block: int) -> list[str]:
        kinds = [k for k, c in BLOCK.items() for _ in range(c)]
        rng = np.random.default_rng([self.seed, 7, block])
        return [kinds[i] for i in rng.permutation(len(kinds))]

    # -- building blocks
    def _target_chars(self, rng: np.random.Generator, mean: float = MEAN_CHARS) -> int:
        sigma = 0.45
        return int(np.clip(rng.lognormal(math.log(mean) - sigma * sigma / 2, sigma), 600, 9000))

    def _draw(self, lang: str, rng: np.random.Generator, target: int, parallel: bool,
              only: list[int] | None = None) -> tuple[list[str], list[int] | None, list[str]]:
        """Pool sentences (random order, no repeats) until ``target`` characters."""
        src = self.pool.parallel[lang] if parallel else self.pool.mono[lang]
        ids = only if only is not None else range(len(src))
        m = min(len(ids), int(target / max(self.mean_len.get(lang, 120.0), 40.0)) + 6)
        pick = [ids[int(i)] for i in rng.choice(len(ids), size=m, replace=False)]
        out, idx, size = [], [], 0
        for i in pick:
            if size >= target and len(out) >= 3:
                break
            out.append(src[i])
            idx.append(i)
            size += len(src[i]) + 1
        keys = [f"p:{i}" if parallel else f"m:{lang}:{i}" for i in idx]
        return out, (idx if parallel else None), keys

    def _article(self, d: Doc, title_from: str | None = None, extra: dict | None = None,
                 chrome: bool = False, rng: np.random.Generator | None = None) -> Article:
        from pipeline.extract.anchors import extract_anchors
        from pipeline.extract.textnorm import normalize_for_matching

        paras, i = [], 0
        r = rng or np.random.default_rng([self.seed, 3, d.k])
        while i < len(d.units):
            step = int(r.integers(1, 4))
            paras.append(" ".join(d.units[i : i + step]))
            i += step
        if chrome:
            paras += CHROME.get(d.lang, CHROME["en"])
        body = "\n\n".join(paras)
        domain = f"{d.lang}-news{d.outlet:02d}.bench"
        url = f"https://{domain}/{d.published:%Y/%m}/{d.kind}-{d.k}"
        words = (title_from or d.units[0]).split()
        return Article(
            article_id=d.article_id, url=url, canonical_url=url, feed_url=f"https://{domain}/feed",
            source_domain=domain, guid=url, title=" ".join(words[:10]), summary="",
            body_text=body, language=d.lang, language_confidence=1.0, published_at=d.published,
            published_at_source="feed", published_at_flag=None, fetched_at=d.published,
            content_hash=hashlib.sha256(normalize_for_matching(body).encode()).hexdigest(),
            anchors=extract_anchors(body, d.lang), **(extra or {}))

    def _other_outlet(self, outlet: int, rng: np.random.Generator) -> int:
        return (outlet + 1 + int(rng.integers(39))) % 40

    def _delay(self, rng: np.random.Generator) -> float:
        cls = _pick(rng, {k: v[0] for k, v in DELAYS.items()})
        _, lo, hi = DELAYS[cls]
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))

    # -- the corpus
    def generate(self, n: int, known: int | None = None) -> Corpus:
        """``n`` articles in publication order with their ground truth.  The archive is a
        share of ``known`` (default ``n``), so the first ``known`` articles are the same
        whatever number of new ones follows them."""
        archive = int((known if known is not None else n) * self.archive_share)
        arts: list[Article] = []
        plants: list[Plant] = []
        negatives: list[HardNegative] = []
        root: dict[str, str] = {}
        keys: dict[str, list[str]] = {}
        every, originals, wires = _Timeline(), _Timeline(), _Timeline()
        par: dict[str, _Timeline] = {lang: _Timeline() for lang in PARALLEL_LANGS}
        kinds: list[str] = []
        templates: dict[str, list[str]] = {}  # template source -> its other versions
        for k in range(n):
            if k % 100 == 0:
                kinds = self._kinds(k // 100)
            kind = "original" if k < 20 else kinds[k % 100]
            rng = np.random.default_rng([self.seed, 1, k])
            t = self._time(k, archive)
            aid = f"r{k:07d}"
            made = self._make(kind, k, aid, t, rng, every, originals, wires, par)
            if made is None:  # no eligible source yet: an original instead
                made = self._make("original", k, aid, t, rng, every, originals, wires, par)
            assert made is not None
            d, art, plant, neg = made
            arts.append(art)
            root[aid] = d.root
            keys[aid] = d.keys
            if plant:
                plants.append(plant)
            if neg:
                negatives.append(neg)
            every.add(d)
            if d.kind in ("original", "wire_original", "same_event", "template"):
                originals.add(d)
            if d.kind == "wire_original":
                wires.add(d)
            if neg and neg.kind == "template":  # every other version of the template, too
                siblings = templates.setdefault(neg.a, [])
                negatives += [HardNegative("template", b, aid) for b in siblings]
                siblings.append(aid)
            if d.parallel is not None and d.kind in ("original", "wire_original"):
                par[d.lang].add(d)
        return Corpus(arts, plants, negatives, root, keys)

    def _original(self, kind: str, k: int, aid: str, t: datetime, rng: np.random.Generator,
                  lang: str | None = None) -> Doc:
        lang = lang or _pick(rng, ORIGINAL_LANG_P)
        parallel = lang in PARALLEL_LANGS and rng.random() < PARALLEL_SHARE[lang]
        if kind == "wire_original":  # short, every sentence carries names or numbers
            only = None if parallel else self.pool.numbered.get(lang)
            base, idx, keys = self._draw(lang, rng, self._target_chars(rng, 900), parallel, only=only or None)
        else:
            base, idx, keys = self._draw(lang, rng, self._target_chars(rng), parallel)
        var = Variation(vary_names=not parallel)
        units = [var.apply(s, lang, rng, self.pool) for s in base]
        return Doc(k, aid, lang, kind, units, base, idx, var, aid, int(rng.integers(40)), t, keys)

    def _make(self, kind, k, aid, t, rng, every, originals, wires, par):
        if kind in ("original", "wire_original"):
            d = self._original(kind, k, aid, t, rng)
            return d, self._article(d), None, None
        if kind == "exact" or kind in NEAR_KINDS:
            delay = self._delay(rng)
            s = every.before(t, delay, rng)
            if s is None:
                return None
            return self._copy(kind, k, aid, t, rng, s)
        if kind == "translation":
            src_lang = _pick(rng, TRANSLATE_FROM)
            s = par[src_lang].before(t, self._delay(rng), rng) or par["en"].before(t, 0.0, rng)
            if s is None:
                return None
            return self._translation(k, aid, t, rng, s)
        if kind == "same_event":
            s = originals.before(t, float(rng.uniform(0.02, 3.0)), rng)
            return None if s is None else self._same_event(k, aid, t, rng, s)
        if kind == "template":
            s = wires.before(t, float(rng.uniform(1.0, 400.0)), rng)
            return None if s is None else self._template(k, aid, t, rng, s)
        raise ValueError(kind)

    def _copy(self, kind, k, aid, t, rng, s: Doc):
        units, keys = list(s.units), list(s.keys)
        base, idx = list(s.base), (list(s.parallel) if s.parallel is not None else None)
        if kind == "edited_lead":
            first = units[0]
            cut = first.find(", ")
            if 0 < cut < len(first) - 30 and rng.random() < 0.5:
                units[0] = first[cut + 2 :][:1].upper() + first[cut + 3 :]
            else:
                new, _, nk = self._draw(s.lang, rng, 1, False)
                units[0] = s.var.apply(new[0], s.lang, rng, self.pool)
                keys[0] = nk[0]
            idx = None
        elif kind == "added_intro":
            intro, _, nk = self._draw(s.lang, rng, int(rng.integers(80, 300)), False)
            units = [s.var.apply(x, s.lang, rng, self.pool) for x in intro[:2]] + units
            keys = nk[:2] + keys
            idx = None
        elif kind == "trimmed_end":
            keep = max(3, int(len(units) * rng.uniform(0.55, 0.85)))
            units, base, keys = units[:keep], base[:keep], keys[:keep]
            idx = idx[:keep] if idx is not None else None
        elif kind == "excerpt":
            size = max(3, int(len(units) * rng.uniform(0.25, 0.45)))
            start = int(rng.integers(1, max(2, len(units) - size)))
            units, base, keys = units[start : start + size], base[start : start + size], keys[start : start + size]
            idx = idx[start : start + size] if idx is not None else None
        d = Doc(k, aid, s.lang, kind, units, base, idx, s.var, s.root,
                self._other_outlet(s.outlet, rng), t, keys)
        extra = ({"original_outlet": f"{s.lang}-news{s.outlet:02d}.bench"}
                 if kind != "exact" and rng.random() < 0.2 else None)
        art = self._article(d, title_from=None if kind != "exact" else s.units[0], extra=extra,
                            chrome=kind != "exact" and rng.random() < 0.5,
                            rng=np.random.default_rng([self.seed, 3, s.k]) if kind == "exact" else None)
        detail = "" if kind == "exact" else kind
        return d, art, Plant("exact" if kind == "exact" else "near", detail, aid, s.article_id,
                             round((t - s.published).total_seconds() / 86400, 3)), None

    def _translation(self, k, aid, t, rng, s: Doc):
        assert s.parallel is not None
        target = _pick(rng, TRANSLATE_TO[s.lang])
        idx = list(s.parallel)
        shape = _pick(rng, {"full": 0.55, "abridged": 0.25, "lead": 0.1, "middle": 0.1})
        if shape == "abridged" and len(idx) > 4:
            drop = set(rng.choice(len(idx), size=int(len(idx) * rng.uniform(0.25, 0.45)), replace=False).tolist())
            idx = [x for j, x in enumerate(idx) if j not in drop]
        elif shape == "lead" and len(idx) > 4:
            idx = idx[: max(3, int(len(idx) * rng.uniform(0.5, 0.7)))]
        elif shape == "middle" and len(idx) > 5:
            size = max(3, int(len(idx) * rng.uniform(0.4, 0.6)))
            start = int(rng.integers(1, max(2, len(idx) - size)))
            idx = idx[start : start + size]
        base = [self.pool.parallel[target][i] for i in idx]
        var = Variation(numbers=dict(s.var.numbers), vary_names=False)
        units = [var.apply(x, target, rng, self.pool) for x in base]
        d = Doc(k, aid, target, "translation", units, base, idx, var, s.root, int(rng.integers(40)), t,
                [f"p:{i}" for i in idx])
        extra = None
        if rng.random() < 0.4:
            extra = {"translator": "bench translator",
                     "original_outlet": f"{s.lang}-news{s.outlet:02d}.bench",
                     "original_domain": f"{s.lang}-news{s.outlet:02d}.bench"}
        art = self._article(d, extra=extra)
        return d, art, Plant("translation", f"{shape}:{s.lang}-{target}", aid, s.article_id,
                             round((t - s.published).total_seconds() / 86400, 3)), None

    def _same_event(self, k, aid, t, rng, s: Doc):
        """Another article on the same event: its own sentences, one or two of the source's
        (in the other language when it is aligned), and the source's numbers and names."""
        cross = s.parallel is not None and rng.random() < 0.35
        lang = [x for x in PARALLEL_LANGS if x != s.lang][int(rng.integers(2))] if cross else s.lang
        if lang == "fa" and rng.random() < 0.5:
            lang = "ar" if s.lang != "ar" else "en"
        base, _, keys = self._draw(lang, rng, self._target_chars(rng), False)
        var = Variation(vary_names=True, prefer_numbers=sorted(set(s.var.numbers.values())),
                        prefer_names=sorted(set(s.var.names.values())))
        units = [var.apply(x, lang, rng, self.pool) for x in base]
        shared = sorted(rng.choice(len(s.units), size=min(len(s.units), int(rng.integers(1, 3))),
                                   replace=False).tolist())
        for j in shared:
            if lang == s.lang:
                sent = s.units[j]
            else:
                assert s.parallel is not None
                sent = Variation(numbers=dict(s.var.numbers), vary_names=False).apply(
                    self.pool.parallel[lang][s.parallel[j]], lang, rng, self.pool)
            at = int(rng.integers(0, len(units) + 1))
            units.insert(at, sent)
            base.insert(at, sent)
            keys.insert(at, s.keys[j])
        d = Doc(k, aid, lang, "same_event", units, base, None, var, aid, self._other_outlet(s.outlet, rng), t,
                keys)
        return d, self._article(d), None, HardNegative("same_event" if lang == s.lang else "same_event_cross",
                                                        s.article_id, aid)

    def _template(self, k, aid, t, rng, s: Doc):
        """The same wire template with other names, numbers and years."""
        var = Variation(vary_names=s.lang in ("en", "fr", "es"),
                        avoid=set(s.var.numbers.values()) | set(s.var.names.values()) | set(s.var.numbers))
        units = [var.apply(x, s.lang, rng, self.pool) for x in s.base]
        if units == s.units:  # nothing variable after all: not a template pair
            return None
        d = Doc(k, aid, s.lang, "template", units, list(s.base), None, var, aid, s.outlet, t, list(s.keys))
        return d, self._article(d), None, HardNegative("template", s.article_id, aid)


def generate(n: int, seed: int = 1, pool: Pool | None = None, corpora: Path | None = None,
             known: int | None = None) -> Corpus:
    """``n`` articles from the real corpora (``corpora_dir()`` unless given)."""
    if pool is None:
        corpora = corpora or corpora_dir()
        if corpora is None:
            raise FileNotFoundError(f"shared corpora not found under {shared_dir()} "
                                    "(set NEWSFLOW_SHARED_DIR)")
        pool = load_pool(corpora)
    return Generator(pool, seed=seed).generate(n, known=known)
