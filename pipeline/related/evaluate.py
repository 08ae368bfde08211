"""``newsflow eval related``: relevance of the served related lists on a labelled dev set.

The dev set (``pipeline/data/related_devset.yaml``, synthetic, built by
``tests/fixtures/related/build_devset.py``) lists articles and, for each, the relevant others and its own
story's copies and translations.  The evaluation runs the real pipeline stages on it in a
scratch lake and warehouse (dedup, warehouse load, related refresh), asks the served query
for each article's top k in the article's own language, and reports nDCG@k, precision@k
and the same-story leak rate: the share of listed articles that belong to the reader's own
story, by the labels or by the warehouse's dedup.  It must be 0.

Because it runs the real dedup stage, the related vectors are the ones dedup stores in
production (``pipeline.related.stage``): the evaluation measures what the pipeline serves.
``GATE`` holds the floors ``newsflow eval related --check`` enforces.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

import yaml

from pipeline.config import Settings
from pipeline.dedup.encoder import Encoder
from pipeline.models import Article

# Shipped in the package so ``newsflow eval related`` works from an installed wheel.
DEVSET = Path(str(resources.files("pipeline").joinpath("data", "related_devset.yaml")))
# Floors for ``--check`` on the default dev set at k = 5: the figures before the related
# stage reused dedup's vectors (nDCG@5 0.841, precision@5 0.817), rounded down, so that
# quality can never silently drop below what encoding every article itself gave.
GATE = {"ndcg": 0.84, "precision": 0.81, "leak_rate": 0.0}


@dataclass
class EvalResult:
    articles: int
    k: int
    ndcg: float
    precision: float
    leak_rate: float
    leaks: list[tuple[str, str]] = field(default_factory=list)
    per_language: dict[str, dict[str, float]] = field(default_factory=dict)

    def missed(self, gate: dict[str, float] = GATE) -> list[str]:
        """The gate's measures this result misses (empty when it passes)."""
        out = [f"{m} {getattr(self, m):.3f} < {gate[m]}" for m in ("ndcg", "precision") if getattr(self, m) < gate[m]]
        if self.leak_rate > gate["leak_rate"]:
            out.append(f"leak_rate {self.leak_rate:.3f} > {gate['leak_rate']}")
        return out

    def render(self) -> str:
        lines = [f"related lists evaluated on {self.articles} articles (k={self.k})",
                 f"nDCG@{self.k}: {self.ndcg:.3f}", f"precision@{self.k}: {self.precision:.3f}",
                 f"same-story leak rate: {self.leak_rate:.3f} ({len(self.leaks)} leaks)"]
        for lang, m in sorted(self.per_language.items()):
            lines.append(f"  [{lang}] n={int(m['n'])} nDCG@{self.k} {m['ndcg']:.3f} precision@{self.k} {m['precision']:.3f}")
        return "\n".join(lines)


def _article(row: dict) -> Article:
    from pipeline.extract.anchors import extract_anchors

    when = datetime.fromisoformat(row["published_at"].replace("Z", "+00:00"))
    text = f"{row['title']}\n{row['body']}"
    return Article(
        article_id=row["id"], url=row["url"], canonical_url=row["url"], feed_url=f"https://{row['source_domain']}/feed",
        source_domain=row["source_domain"], guid=row["url"], title=row["title"], summary=row["body"][:200],
        body_text=row["body"], language=row["language"], language_confidence=1.0, published_at=when,
        published_at_source="feed", published_at_flag=None, fetched_at=when,
        content_hash=hashlib.sha256(row["body"].encode()).hexdigest(), anchors=extract_anchors(text, row["language"]),
    )


def _ndcg(gains: list[int], ideal: int) -> float:
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    idcg = sum(1 / math.log2(i + 2) for i in range(ideal))
    return dcg / idcg if idcg else 0.0


def evaluate(devset: str | Path = DEVSET, *, k: int = 5, settings: Settings | None = None,
             workdir: str | Path | None = None) -> EvalResult:
    """Build a scratch lake + warehouse from the dev set, refresh, and score the served lists."""
    from pipeline.lake.articles import write_articles
    from pipeline.lake.store import open_store
    from pipeline.stages import dedup, load_warehouse, refresh_related
    from pipeline.warehouse.queries import related_for

    data = yaml.safe_load(Path(devset).read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in data["articles"]}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        base = settings or Settings.load()
        s = base.replace(lake=str(Path(tmp) / "lake"), warehouse=f"duckdb:///{Path(tmp) / 'wh.duckdb'}")
        store = open_store(s)
        run_ts = max(datetime.fromisoformat(r["published_at"].replace("Z", "+00:00")) for r in rows.values())
        write_articles(store, f"{run_ts:%Y%m%dT%H%M%SZ}-devset", [_article(r) for r in rows.values()])
        dedup(s, store=store)
        load_warehouse(s, run_ts=run_ts, store=store)
        refresh_related(s, store=store, run_ts=run_ts)
        from pipeline.warehouse.queries import article as article_row

        story = {aid: (article_row(s, aid) or {}).get("story_id") for aid in rows}
        served = {lab["id"]: related_for(s, lab["id"], k=k) or [] for lab in data["labels"]}
    ndcgs, precs, leaks, total = [], [], [], 0
    per_lang: dict[str, list[tuple[float, float]]] = {}
    for lab in data["labels"]:
        aid = lab["id"]
        relevant, same = set(lab["relevant"]), set(lab["same_story"])
        got = [r["article_id"] for r in served[aid]]
        total += len(got)
        leaks += [(aid, g) for g in got if g in same or g == aid or (story[aid] and story.get(g) == story[aid])]
        gains = [1 if g in relevant else 0 for g in got]
        ideal = min(k, len({rows[x]["story"] for x in relevant}))
        n, p = _ndcg(gains, ideal), sum(gains) / k
        ndcgs.append(n)
        precs.append(p)
        per_lang.setdefault(rows[aid]["language"], []).append((n, p))
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    return EvalResult(
        len(ndcgs), k, mean(ndcgs), mean(precs), len(leaks) / total if total else 0.0, leaks,
        {lang: {"n": len(v), "ndcg": mean([a for a, _ in v]), "precision": mean([b for _, b in v])} for lang, v in per_lang.items()},
    )


def load_devset(devset: str | Path = DEVSET) -> dict:
    return yaml.safe_load(Path(devset).read_text(encoding="utf-8"))


def write_labelled(store, rows: list[dict], batch_id: str, all_rows: list[dict] | None = None, *,
                   settings: Settings | None = None, encoder: Encoder | None = None, index: bool = True) -> None:
    """Write dev-set articles as a lake batch plus a dedup generation taken from the labels
    (story = labelled story; the first member is the canonical).  For tests and benchmarks
    that must not depend on the dedup engine's decisions; ``all_rows``: every article
    written so far.

    With ``index`` (the default) the batch's dedup index is written too, by dedup's own
    ``index_articles`` with the primary encoder (``encoder`` or the settings' first), so the
    related stage reads the very vectors the pipeline would have stored.  ``index=False``
    leaves it out: the related stage then embeds every article itself (the bench does this
    with a stand-in encoder)."""
    from pipeline.lake import dedup_zone
    from pipeline.lake.articles import batch_ids, write_articles
    from pipeline.models import DedupAssignment

    articles = [_article(r) for r in rows]
    write_articles(store, batch_id, articles)
    if index:
        from pipeline.dedup.encoder import get_encoder
        from pipeline.dedup.index import index_articles
        from pipeline.dedup.stage import index_fingerprint

        s = settings or Settings.load()
        enc = encoder or get_encoder(s.dedup_encoders.split(",")[0].strip() or "use-m")
        docs = index_articles(articles, enc, min_text_chars=s.min_text_chars, lsh_threshold=s.lsh_threshold,
                              num_perm=s.minhash_perm)
        dedup_zone.write_index(store, batch_id, docs, index_fingerprint(s))
    assignments, first = [], {}
    for r in sorted(all_rows or rows, key=lambda r: (r["published_at"], r["id"])):
        story = "s-" + hashlib.sha256(r["story"].encode()).hexdigest()[:12]
        canon = first.setdefault(story, r["id"])
        dup = None if canon == r["id"] else canon
        kind = {"copy": "near"}.get(r.get("kind"), r.get("kind")) if dup else None
        assignments.append(DedupAssignment(r["id"], story, dup, kind, 1.0 if dup else None))
    gen = dedup_zone.generation_id_for(batch_ids(store))
    dedup_zone.write_generation(store, gen, assignments, [], {"stories": len(first)})
