"""The sample corpus under examples/ is consistent with its answer key, and reproducible."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SITES = EXAMPLES / "sites"


@pytest.fixture(scope="module")
def key() -> dict:
    return yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))


def page_file(url: str) -> Path:
    parts = urlsplit(url)
    target = SITES / parts.hostname / parts.path.lstrip("/")
    return target / "index.html" if target.is_dir() else target


def _copies(key: dict, kind: str) -> list[str]:
    return [c["url"] for s in key["stories"] for c in s["copies"] if c["kind"] == kind]


def test_outlets_and_article_counts(key: dict) -> None:
    outlets = key["outlets"]
    langs = [o["language"] for o in outlets.values()]
    assert len(outlets) >= 6 and langs.count("en") >= 3 and langs.count("ar") >= 3
    assert outlets["gulfledger.example"]["name"] == "The Gulf Ledger"
    articles = key["articles"]
    assert len(articles) >= 60
    for domain in outlets:
        assert sum(a["outlet"] == domain for a in articles) >= 8, domain
    urls = [a["url"] for a in articles]
    assert len(urls) == len(set(urls))
    assert all("utm_" not in u for u in urls)


def test_story_kinds_and_attribution(key: dict) -> None:
    by_url = {a["url"]: a for a in key["articles"]}
    translations = _copies(key, "translation")
    assert len(translations) >= 8
    unattributed = [u for u in translations if by_url[u]["attribution"] is None]
    assert len(unattributed) >= 2
    assert all(by_url[u]["language"] == "ar" for u in translations)
    exact_en = [u for u in _copies(key, "exact") if by_url[u]["language"] == "en"]
    assert len(exact_en) >= 3
    assert len(_copies(key, "near")) >= 3
    # one story, several copies, two languages (like the seed page)
    assert any(
        sum(c["kind"] == "translation" for c in s["copies"]) >= 2
        and any(c["kind"] == "exact" for c in s["copies"])
        for s in key["stories"]
    )
    for story in key["stories"]:
        original = by_url[story["original"]]
        for copy in story["copies"]:
            assert copy["url"] in by_url and copy["url"] != story["original"]
            if copy["kind"] == "translation":
                delta = datetime.fromisoformat(by_url[copy["url"]]["published"]) - datetime.fromisoformat(original["published"])
                assert 1 <= delta.total_seconds() / 86400 <= 3, copy["url"]


def test_attribution_lines_are_on_the_pages(key: dict) -> None:
    names = {"gulfledger.example": ["Gulf Ledger", "غلف ليدجر"],
             "meridianwire.example": ["Meridian Wire", "ميريديان"],
             "harbortimes.example": ["Harbor Times", "هاربر تايمز"],
             "almarsad.example": ["المرصد اليومي"], "alwaha.example": ["الواحة"]}
    for art in key["articles"]:
        attr = art["attribution"]
        if not attr:
            continue
        html = page_file(art["url"]).read_text(encoding="utf-8")
        article = html.split("<article", 1)[1].split("</article>", 1)[0]
        assert any(n in article for n in names[attr["original_outlet"]]), art["url"]
        if attr["translator"]:
            assert attr["translator"] in article


def test_hard_negatives(key: dict) -> None:
    by_url = {a["url"]: a for a in key["articles"]}
    negatives = key["hard_negatives"]
    assert len(negatives) >= 4
    cross = [n for n in negatives if by_url[n["a"]]["language"] != by_url[n["b"]]["language"]]
    assert len(cross) >= 2
    story_of = {}
    for s in key["stories"]:
        for url in [s["original"], *[c["url"] for c in s["copies"]]]:
            story_of[url] = s["key"]
    for n in negatives:
        assert n["a"] in by_url and n["b"] in by_url
        assert story_of.get(n["a"], n["a"]) != story_of.get(n["b"], n["b"])


def test_every_article_has_a_page(key: dict) -> None:
    for art in key["articles"]:
        path = page_file(art["url"])
        assert path.is_file() and path.stat().st_size > 0, art["url"]
        html = path.read_text(encoding="utf-8")
        assert f'<link rel="canonical" href="{art["url"]}">' in html
        assert f'<html lang="{art["language"]}"' in html
        assert '<meta name="author"' in html and "<article" in html
        paragraphs = re.findall(r"<p>", html.split("<article", 1)[1].split("</article>", 1)[0])
        assert len(paragraphs) >= 3, art["url"]
        has_date = "article:published_time" in html
        assert has_date == (art["published"] is not None), art["url"]


def _feed_entries(feed_url: str) -> list[tuple[str, bool]]:
    body = page_file(feed_url).read_bytes()
    if feed_url.endswith(".json"):
        data = json.loads(body)
        assert data["version"] == "https://jsonfeed.org/version/1.1"
        return [(i["url"], "date_published" in i) for i in data["items"]]
    parsed = feedparser.parse(body)
    assert not parsed.bozo, (feed_url, parsed.get("bozo_exception"))
    return [(e.link, "published_parsed" in e or "updated_parsed" in e) for e in parsed.entries]


def test_feeds_parse_and_list_every_article(key: dict) -> None:
    feeds = yaml.safe_load((EXAMPLES / "feeds.yaml").read_text(encoding="utf-8"))["feeds"]
    rejected = {r["url"] for r in key["rejects"] if r["stage"] == "parse"}
    listed: dict[str, bool] = {}
    for feed in feeds:
        if feed["url"] in rejected:
            continue
        for link, dated in _feed_entries(feed["url"]):
            listed[link.split("?", 1)[0]] = dated
    for art in key["articles"]:
        assert art["url"] in listed, art["url"]
        assert listed[art["url"]] == (art["published"] is not None)
    assert any("utm_source=rss" in link for f in feeds if f["url"] not in rejected
               for link, _ in _feed_entries(f["url"]))
    opml = (EXAMPLES / "feeds.opml").read_text(encoding="utf-8")
    assert all(f'xmlUrl="{f["url"]}"' in opml for f in feeds)


def test_rejects_are_really_broken(key: dict) -> None:
    reasons = {r["reason"]: r["url"] for r in key["rejects"]}
    assert set(reasons) >= {"feed_invalid", "http_404", "empty_page"}
    assert feedparser.parse(page_file(reasons["feed_invalid"]).read_bytes()).entries == []
    assert not page_file(reasons["http_404"]).exists()
    assert page_file(reasons["empty_page"]).stat().st_size == 0
    assert len(key["undated"]) >= 1


def test_build_is_deterministic(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(EXAMPLES / "build_corpus.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    committed = {p.relative_to(EXAMPLES): p for p in SITES.rglob("*") if p.is_file()}
    fresh = {p.relative_to(tmp_path): p for p in (tmp_path / "sites").rglob("*") if p.is_file()}
    assert committed.keys() == fresh.keys()
    for rel, path in fresh.items():
        assert path.read_bytes() == committed[rel].read_bytes(), rel
    for name in ("expected.yaml", "feeds.yaml", "feeds.opml"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name
