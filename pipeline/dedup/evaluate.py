"""Evaluate the real dedup on labelled pairs: precision, recall and F1 per label.

Items (JSONL): ``id, url, language, title, published, text`` (optional ``source``,
``translator``, ``original_outlet``, ``original_domain``).  Pairs (JSONL): ``a, b, label``
with ``label`` in ``republication``, ``translation``, ``related``, ``unrelated``.

The items go through ``find_duplicates`` exactly as lake articles do; a pair is
*predicted* ``translation`` when both ends land in one story in different languages,
``republication`` when in one story in the same language, ``separate`` otherwise.
Per positive label: precision/recall/F1 of that prediction.  For ``related`` and
``unrelated`` (both should stay ``separate``) recall is the share kept apart and
``merged`` counts failures; ``overall`` is the same-story decision over all pairs.
``ntrex_devset`` turns ``corpora/parallel/ntrex-dev`` into items and pairs at run time
(its text is never copied into the repository).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.config import Settings
from pipeline.models import Article

LABELS = ("republication", "translation", "related", "unrelated")
POSITIVE = {"republication", "translation"}
# ``--check`` gates per evaluation set (issue 12).  Figures from sets we wrote ourselves
# are regression tests; the real sets are the evidence.
PROFILES = {
    "synthetic": {"recall": {"translation": 1.0, "republication": 1.0}, "merged": 0},
    "real": {"recall": {"translation": 0.90, "republication": 0.90},
             "holdout_recall": {"translation": 0.85, "republication": 0.85}, "merged": 0},
    "ntrex": {"language_recall": {"ar-en": 1.0, "en-fa": 0.95}, "merged": 0},
}
DEFAULT_SPLIT = Path(__file__).resolve().parents[1] / "data" / "republished_split.json"


def _ts(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def item_to_article(item: dict) -> Article:
    url = item.get("url") or f"https://item.invalid/{item['id']}"
    published = _ts(item["published"]) if item.get("published") else datetime(2025, 1, 1, tzinfo=UTC)
    return Article(
        article_id=str(item["id"]), url=url, canonical_url=url, feed_url=url,
        source_domain=item.get("source") or (urlsplit(url).hostname or ""), guid=url,
        title=item.get("title") or "", summary="", body_text=item.get("text") or "",
        language=item.get("language") or "und", language_confidence=1.0,
        published_at=published, published_at_source="feed", published_at_flag=None,
        fetched_at=published, translator=item.get("translator"),
        original_outlet=item.get("original_outlet"), original_domain=item.get("original_domain"),
        original_url=item.get("original_url"),
    )


def read_jsonl(path: str | Path) -> list[dict]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from exc
    return rows


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "tp": tp, "fp": fp, "fn": fn}


def score(items: Sequence[dict], pairs: Sequence[dict], assignments: dict) -> dict:
    """Metrics from story assignments (``article_id -> DedupAssignment``)."""
    lang = {str(i["id"]): i.get("language") for i in items}
    gold_n: dict[str, int] = defaultdict(int)
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    errors = []
    same_pos = 0
    for p in pairs:
        a, b, label = str(p["a"]), str(p["b"]), p["label"]
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r} for pair {a} {b}")
        if a not in assignments or b not in assignments:
            raise ValueError(f"pair {a} {b}: id not among the items")
        same = assignments[a].story_id == assignments[b].story_id
        pred = ("translation" if lang[a] != lang[b] else "republication") if same else "separate"
        gold_n[label] += 1
        same_pos += same and label in POSITIVE
        want = label if label in POSITIVE else "separate"
        if pred == want:
            tp[label] += 1
        else:
            errors.append({"a": a, "b": b, "label": label, "predicted": pred})
            if pred in POSITIVE:
                fp[pred] += 1
    out: dict = {"pairs": len(pairs), "labels": {}}
    for label in LABELS:
        if label in POSITIVE:
            out["labels"][label] = {**_prf(tp[label], fp[label], gold_n[label] - tp[label]), "n": gold_n[label]}
        else:
            kept = tp[label]
            out["labels"][label] = {"n": gold_n[label], "recall": round(kept / gold_n[label], 4) if gold_n[label] else 1.0,
                                    "merged": gold_n[label] - kept}
    pos_gold = sum(gold_n[x] for x in POSITIVE)
    merged_neg = sum(gold_n[x] - tp[x] for x in LABELS if x not in POSITIVE)
    out["overall"] = _prf(same_pos, merged_neg, pos_gold - same_pos)  # same story or not
    out["overall"]["accuracy"] = round(sum(tp.values()) / len(pairs), 4) if pairs else 1.0
    out["errors"] = errors
    out["language_pairs"] = _language_pairs(pairs, lang, assignments)
    return out


def _language_pairs(pairs: Sequence[dict], lang: dict, assignments: dict) -> dict:
    """Recall of the positive pairs per language pair (``ar-en``), merged negatives too."""
    out: dict[str, dict] = {}
    for p in pairs:
        a, b = str(p["a"]), str(p["b"])
        key = "-".join(sorted((lang[a] or "und", lang[b] or "und")))
        r = out.setdefault(key, {"positive": 0, "found": 0, "negative": 0, "merged": 0})
        same = assignments[a].story_id == assignments[b].story_id
        if p["label"] in POSITIVE:
            r["positive"] += 1
            r["found"] += same
        else:
            r["negative"] += 1
            r["merged"] += same
    for r in out.values():
        r["recall"] = round(r["found"] / r["positive"], 4) if r["positive"] else None
    return dict(sorted(out.items()))


def groups_of(items: Sequence[dict], pairs: Sequence[dict]) -> dict[str, list[str]]:
    """Groups of one article: connected components of the positive pairs, named by their
    smallest id (items with no positive pair are left out)."""
    parent = {str(i["id"]): str(i["id"]) for i in items}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        if p["label"] in POSITIVE:
            ra, rb = find(str(p["a"])), find(str(p["b"]))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    comps: dict[str, list[str]] = defaultdict(list)
    for x in sorted(parent):
        comps[find(x)].append(x)
    return {k: v for k, v in comps.items() if len(v) > 1}


def per_group(items: Sequence[dict], pairs: Sequence[dict], assignments: dict) -> list[dict]:
    """Recall per group, so one large group cannot dominate the pooled figure."""
    member = {x: g for g, xs in groups_of(items, pairs).items() for x in xs}
    rows: dict[str, dict] = {}
    for p in pairs:
        if p["label"] not in POSITIVE:
            continue
        g = member[str(p["a"])]
        r = rows.setdefault(g, {"group": g, "size": 0, "positive": 0, "found": 0})
        r["positive"] += 1
        r["found"] += assignments[str(p["a"])].story_id == assignments[str(p["b"])].story_id
    for g, xs in groups_of(items, pairs).items():
        rows[g]["size"] = len(xs)
        rows[g]["recall"] = round(rows[g]["found"] / rows[g]["positive"], 4)
    return sorted(rows.values(), key=lambda r: r["group"])


def read_split(path: str | Path) -> dict[str, set[str]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {"tune": set(data["tune"]), "holdout": set(data["holdout"])}


def split_pairs(pairs: Sequence[dict], split: dict[str, set[str]]) -> dict[str, list[dict]]:
    """A pair is held out when either end is (the tuning half sees only its own items)."""
    out: dict[str, list[dict]] = {"tune": [], "holdout": []}
    for p in pairs:
        tune = str(p["a"]) in split["tune"] and str(p["b"]) in split["tune"]
        out["tune" if tune else "holdout"].append(p)
    return out


def story_mixing(items: Sequence[dict], assignments: dict, truth: Callable[[str], str]) -> int:
    """Pairs of items from different true stories that share a predicted story (every
    pair, labelled or not): the wrong merges a labelled-pairs score cannot see."""
    by_story: dict[str, list[str]] = defaultdict(list)
    for i in items:
        by_story[assignments[str(i["id"])].story_id].append(truth(str(i["id"])))
    wrong = 0
    for members in by_story.values():
        counts = defaultdict(int)
        for t in members:
            counts[t] += 1
        n = len(members)
        wrong += (n * (n - 1) - sum(c * (c - 1) for c in counts.values())) // 2
    return wrong


def evaluate(items: Sequence[dict], pairs: Sequence[dict], settings: Settings, encoder=None,
             split: dict[str, set[str]] | None = None, truth: Callable[[str], str] | None = None,
             result=None) -> dict:
    """Score the real dedup on ``items``; with ``split``, the tuning and held-out halves
    too; with ``truth`` (item id -> true story), wrong merges over all pairs."""
    from pipeline.dedup import find_duplicates

    if result is None:
        result = find_duplicates([item_to_article(i) for i in items], settings, encoder=encoder)
    out = score(items, pairs, result.assignments)
    out["counts"] = result.counts
    out["groups"] = per_group(items, pairs, result.assignments)
    if split is not None:
        halves = split_pairs(pairs, split)
        out["halves"] = {h: score(items, ps, result.assignments) for h, ps in halves.items()}
    if truth is not None:
        out["wrong_merges_all_pairs"] = story_mixing(items, result.assignments, truth)
    return out


def targets_met(report: dict, profile: str = "synthetic") -> list[str]:
    """The ``PROFILES[profile]`` gates that ``report`` misses (empty when all are met)."""
    t = PROFILES[profile]
    missed = []

    def recall(where: dict, label: str, floor: float, name: str) -> None:
        r = where["labels"][label]
        if r["n"] and r["recall"] < floor:
            missed.append(f"{name}{label} recall {r['recall']} < {floor}")

    for label, floor in t.get("recall", {}).items():
        recall(report, label, floor, "")
    for label, floor in t.get("holdout_recall", {}).items():
        if "halves" in report:
            recall(report["halves"]["holdout"], label, floor, "held-out ")
    for lp, floor in t.get("language_recall", {}).items():
        r = report["language_pairs"].get(lp)
        if r and r["recall"] is not None and r["recall"] < floor:
            missed.append(f"{lp} recall {r['recall']} < {floor}")
    merged = sum(report["labels"][x]["merged"] for x in ("related", "unrelated"))
    merged += report.get("wrong_merges_all_pairs", 0)
    if merged > t["merged"]:
        missed.append(f"{merged} wrong merge(s)")
    return missed


def format_report(report: dict) -> str:
    lines = [f"{'label':14s} {'n':>5s} {'precision':>9s} {'recall':>7s} {'f1':>6s} {'merged':>6s}"]
    for label in LABELS:
        r = report["labels"][label]
        if label in POSITIVE:
            lines.append(f"{label:14s} {r['n']:5d} {r['precision']:9.4f} {r['recall']:7.4f} {r['f1']:6.4f} {'':>6s}")
        else:
            lines.append(f"{label:14s} {r['n']:5d} {'':>9s} {r['recall']:7.4f} {'':>6s} {r['merged']:6d}")
    o = report["overall"]
    lines.append(f"{'overall':14s} {report['pairs']:5d} {o['precision']:9.4f} {o['recall']:7.4f} {o['f1']:6.4f}"
                 f"   accuracy {o['accuracy']:.4f}")
    return "\n".join(lines)


def format_full(report: dict) -> str:
    """The whole report as text: pooled, per half, per language pair, per group."""
    out = [format_report(report)]
    for half in ("tune", "holdout"):
        if half in report.get("halves", {}):
            out += ["", f"{half} half:", format_report(report["halves"][half])]
    out += ["", "language pair   positive  found  recall  negative  merged"]
    for lp, r in report["language_pairs"].items():
        rec = f"{r['recall']:.4f}" if r["recall"] is not None else "-"
        out.append(f"{lp:14s} {r['positive']:9d} {r['found']:6d} {rec:>7s} {r['negative']:9d} {r['merged']:7d}")
    if report.get("groups"):
        out += ["", "group (size)                          positive  found  recall"]
        for g in report["groups"]:
            out.append(f"{g['group'][:34]:34s} ({g['size']}) {g['positive']:6d} {g['found']:6d} {g['recall']:7.4f}")
        recalls = [g["recall"] for g in report["groups"]]
        out.append(f"mean recall over {len(recalls)} groups: {sum(recalls) / len(recalls):.4f}")
    if "wrong_merges_all_pairs" in report:
        out.append(f"wrong merges over all item pairs: {report['wrong_merges_all_pairs']}")
    return "\n".join(out)


# ----------------------------------------------------------------------------- ntrex-dev

NTREX_FILES = {"en": "newstest2019-src.eng.txt", "ar": "newstest2019-ref.arb.txt",
               "fa": "newstest2019-ref.fas.txt", "ckb": "newstest2019-ref.ckb-Arab.txt"}


def ntrex_devset(root: str | Path, languages: Iterable[str] = ("en", "ar", "fa", "ckb"),
                 negatives_per_doc: int = 3) -> tuple[list[dict], list[dict]]:
    """Items and pairs from ntrex-dev: every cross-language pair of one document is a
    ``translation``; documents paired with the next ``negatives_per_doc`` documents (same
    and other languages) are ``unrelated``.  Translations are dated 6 h after the source."""
    root = Path(root)
    ids = (root / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    langs = [x for x in languages if (root / NTREX_FILES[x]).is_file()]
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    items = []
    for lang in langs:
        lines = (root / NTREX_FILES[lang]).read_text(encoding="utf-8").splitlines()
        if len(lines) != len(ids):
            raise ValueError(f"{NTREX_FILES[lang]}: {len(lines)} lines, {len(ids)} document ids")
        by: dict[str, list[str]] = defaultdict(list)
        for d, line in zip(ids, lines, strict=True):
            by[d].append(line)
        for d, ls in by.items():
            items.append({"id": f"{lang}:{d}", "url": f"https://{lang}.ntrex.test/{d}", "language": lang,
                          "title": "", "text": "\n".join(ls),
                          "published": (t0 if lang == "en" else t0 + timedelta(hours=6)).isoformat()})
    docs = sorted(set(ids))
    pairs = []
    for i, d in enumerate(docs):
        for x in range(len(langs)):
            for y in range(x + 1, len(langs)):
                pairs.append({"a": f"{langs[x]}:{d}", "b": f"{langs[y]}:{d}", "label": "translation"})
        for k in range(1, negatives_per_doc + 1):
            other = docs[(i + k) % len(docs)]
            la, lb = langs[(i + k) % len(langs)], langs[(i + 2 * k) % len(langs)]
            pairs.append({"a": f"{la}:{d}", "b": f"{lb}:{other}", "label": "unrelated"})
    return items, pairs
