"""Render the sample corpus (sites, feeds, answer key) from ``examples/content/*.yaml``.

Usage: ``python examples/build_corpus.py [--out DIR]`` (default: next to this file).

The YAML content files are the source of truth; everything under ``sites/`` plus
``expected.yaml``, ``feeds.yaml`` and ``feeds.opml`` is generated, deterministically
(stable ordering, no clock), so re-running gives byte-identical output and the
answer key can never drift from the pages it describes.

A copy entry names its original with ``of`` and a ``kind`` (exact, near,
translation).  Exact and near copies may omit ``paragraphs`` and instead edit the
original's with ``replace`` ({index: text}), ``drop`` ([index]) and ``truncate`` (n).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import datetime
from html import escape
from pathlib import Path

import yaml
from corpus_feeds import render_feed
from corpus_model import Item, Outlet
from corpus_pages import render_index, render_page

HERE = Path(__file__).resolve().parent
OUTLET_ORDER = ["gulfledger.example", "harbortimes.example", "meridianwire.example",
                "alrafid.example", "almarsad.example", "alwaha.example"]
COPY_KINDS = {"exact", "near", "translation"}


def load_content(content_dir: Path) -> tuple[list[Outlet], list[dict]]:
    outlets: dict[str, Outlet] = {}
    specs: list[dict] = []
    for path in sorted(content_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        o = data["outlet"]
        feed = o["feed"]
        outlet = Outlet(domain=o["domain"], name=o["name"], language=o["language"],
                        template=o["template"], feed_format=feed["format"], feed_path=feed["path"],
                        full_content=bool(feed["full"]), description=o["description"],
                        sections=list(o["sections"]), broken_feeds=list(o.get("broken_feeds", [])))
        outlets[outlet.domain] = outlet
        for spec in data["articles"]:
            specs.append({**spec, "outlet": outlet.domain})
    missing = set(OUTLET_ORDER) - set(outlets)
    if missing:
        raise SystemExit(f"content files lack outlets: {sorted(missing)}")
    return [outlets[d] for d in OUTLET_ORDER], specs


def _paragraphs(spec: dict, by_id: dict[str, dict]) -> list[str]:
    if "paragraphs" in spec:
        return list(spec["paragraphs"])
    original = by_id[spec["of"]]
    paras = list(original["paragraphs"])
    for index, text in (spec.get("replace") or {}).items():
        paras[int(index)] = text
    drop = {int(i) for i in spec.get("drop", [])}
    paras = [p for i, p in enumerate(paras) if i not in drop]
    if "truncate" in spec:
        paras = paras[: int(spec["truncate"])]
    return paras


def build_items(outlets: list[Outlet], specs: list[dict]) -> list[Item]:
    by_id = {s["id"]: s for s in specs}
    if len(by_id) != len(specs):
        raise SystemExit("duplicate article ids in content")
    outlet_by = {o.domain: o for o in outlets}
    items = []
    for spec in specs:
        published = spec.get("published")
        items.append(Item(
            id=spec["id"], outlet=outlet_by[spec["outlet"]], path=spec["path"],
            title=spec.get("title") or by_id[spec["of"]]["title"], section=spec["section"],
            published=datetime.fromisoformat(published) if published else None,
            author=spec["author"], head=list(spec.get("head", [])),
            paragraphs=_paragraphs(spec, by_id), tail=list(spec.get("tail", [])),
            page=spec.get("page", "ok"), link_suffix=spec.get("link_suffix", ""),
            tags=list(spec.get("tags", [])),
        ))
    items.sort(key=lambda i: (OUTLET_ORDER.index(i.outlet.domain), i.published_utc is None,
                              i.published_utc or datetime.min, i.url))
    paths = [i.url for i in items]
    if len(set(paths)) != len(paths):
        raise SystemExit("duplicate article URLs in content")
    for outlet in outlets:
        stored = [i for i in items if i.outlet is outlet and i.page == "ok"]
        for n, item in enumerate(stored):
            item.related = [stored[(n + k) % len(stored)] for k in (1, 2, 3)]
    validate(items, specs)
    return items


def validate(items: list[Item], specs: list[dict]) -> None:
    """Fail the build when the content breaks a rule the answer key relies on."""
    by_id = {i.id: i for i in items}
    spec_by = {s["id"]: s for s in specs}
    for item in items:
        if item.published and not ("2025-08-01" <= item.published.date().isoformat() <= "2025-09-30"):
            raise SystemExit(f"{item.id}: date outside Aug-Sep 2025")
        if item.page == "ok" and not 5 <= len(item.paragraphs) <= 12 and "truncate" not in spec_by[item.id]:
            raise SystemExit(f"{item.id}: {len(item.paragraphs)} paragraphs (want 5-12)")
        spec = spec_by[item.id]
        if "of" not in spec:
            continue
        kind, original = spec["kind"], by_id[spec["of"]]
        if kind not in COPY_KINDS or "of" in spec_by[original.id]:
            raise SystemExit(f"{item.id}: bad copy kind or chained copy")
        if kind == "exact" and item.paragraphs != original.paragraphs:
            raise SystemExit(f"{item.id}: exact copy differs from {original.id}")
        if kind == "translation":
            if len(item.paragraphs) != len(original.paragraphs):
                raise SystemExit(f"{item.id}: translation has {len(item.paragraphs)} paragraphs, "
                                 f"original {len(original.paragraphs)}")
            days = (item.published_utc - original.published_utc).total_seconds() / 86400
            if not 1 <= days <= 3:
                raise SystemExit(f"{item.id}: translation published {days:.1f} days after original")


def _utc(item: Item) -> str | None:
    return item.published_utc.isoformat() if item.published_utc else None


def expected(outlets: list[Outlet], items: list[Item], specs: list[dict]) -> dict:
    spec_by = {s["id"]: s for s in specs}
    by_id = {i.id: i for i in items}
    stored = [i for i in items if i.page == "ok"]
    articles = []
    for item in stored:
        attr = spec_by[item.id].get("attribution")
        articles.append({
            "url": item.url, "outlet": item.outlet.domain, "language": item.outlet.language,
            "title": item.title, "published": _utc(item),
            "attribution": {"translator": attr.get("translator"),
                            "original_outlet": attr.get("original_outlet")} if attr else None,
        })
    groups: dict[str, list[dict]] = {}
    for item in stored:
        spec = spec_by[item.id]
        if "of" in spec:
            groups.setdefault(spec["of"], []).append({"url": item.url, "kind": spec["kind"]})
    stories = []
    for original_id, copies in groups.items():
        stories.append({"key": spec_by[original_id].get("story", original_id),
                        "original": by_id[original_id].url,
                        "copies": sorted(copies, key=lambda c: c["url"])})
    stories.sort(key=lambda s: s["key"])
    negatives = []
    for item in stored:
        neg = spec_by[item.id].get("negative")
        if neg:
            negatives.append({"a": by_id[neg["of"]].url, "b": item.url, "note": neg["note"]})
    rejects = []
    for outlet in outlets:
        for broken in outlet.broken_feeds:
            rejects.append({"url": outlet.base + broken["path"], "stage": "parse",
                            "reason": "feed_invalid"})
    for item in items:
        if item.page != "ok":
            reason = {"missing": "http_404", "empty": "empty_page"}[item.page]
            rejects.append({"url": item.feed_link, "stage": "page", "reason": reason})
    return {
        "outlets": {o.domain: {"name": o.name, "language": o.language} for o in outlets},
        "articles": articles,
        "stories": stories,
        "hard_negatives": negatives,
        "rejects": rejects,
        "undated": [i.url for i in stored if i.published is None],
    }


def feed_list(outlets: list[Outlet]) -> list[dict]:
    feeds = []
    for o in outlets:
        feeds.append({"url": o.feed_url, "name": o.name, "language": o.language})
        for broken in o.broken_feeds:
            feeds.append({"url": o.base + broken["path"], "name": broken["name"],
                          "language": o.language})
    return feeds


def render_opml(feeds: list[dict]) -> str:
    rows = "\n".join(
        f'    <outline type="rss" text="{escape(f["name"])}" title="{escape(f["name"])}" '
        f'xmlUrl="{f["url"]}" language="{f["language"]}"/>' for f in feeds)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
            "  <head><title>newsflow sample outlets</title></head>\n  <body>\n"
            f'  <outline text="examples" title="examples">\n{rows}\n  </outline>\n'
            "  </body>\n</opml>\n")


def _dump(data: dict, header: str) -> str:
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def write_all(out: Path, content_dir: Path) -> None:
    outlets, specs = load_content(content_dir)
    items = build_items(outlets, specs)
    sites = out / "sites"
    if sites.exists():
        shutil.rmtree(sites)
    for outlet in outlets:
        mine = [i for i in items if i.outlet is outlet]
        root = sites / outlet.domain
        root.mkdir(parents=True)
        (root / "index.html").write_text(render_index(mine), encoding="utf-8")
        (root / outlet.feed_path.lstrip("/")).write_text(render_feed(outlet, mine), encoding="utf-8")
        for broken in outlet.broken_feeds:
            (root / broken["path"].lstrip("/")).write_text(broken["body"], encoding="utf-8")
        for item in mine:
            if item.page == "missing":
                continue
            target = root / item.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("" if item.page == "empty" else render_page(item), encoding="utf-8")
    note = "# GENERATED by examples/build_corpus.py from examples/content/*.yaml; do not edit.\n"
    key_note = note + "# published: UTC. stories: only multi-article stories.\n"
    (out / "expected.yaml").write_text(_dump(expected(outlets, items, specs), key_note), encoding="utf-8")
    feeds = feed_list(outlets)
    (out / "feeds.yaml").write_text(_dump({"feeds": feeds}, note), encoding="utf-8")
    (out / "feeds.opml").write_text(render_opml(feeds), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--content", type=Path, default=HERE / "content")
    args = parser.parse_args(argv)
    write_all(args.out, args.content)
    print(f"corpus written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
