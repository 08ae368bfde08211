"""What a page's ``<head>`` (and JSON-LD) says about the article: identity and metadata.

We read these ourselves rather than through trafilatura's metadata because they decide
identity (canonical URL), dates and language, where a generic extractor's guesses (a date
from a sidebar, a title with "| Site" appended) would do harm.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import lxml.html

from pipeline.extract.dates import parse_date
from pipeline.extract.language import normalize_code

_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "datepublished",
    "pubdate", "publishdate", "publish-date", "publication_date", "dc.date.issued",
    "dcterms.created", "sailthru.date", "parsely-pub-date", "date",
)
_SECTION_META = ("article:section", "og:article:section", "section", "parsely-section", "category")
_TAG_META = ("article:tag", "news_keywords", "keywords", "parsely-tags")
MAX_JSON_LD = 200_000
MAX_TAGS = 30


def clean(value: Any) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def _meta(root: lxml.html.HtmlElement) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """First value of every ``<meta name|property|itemprop>`` (lower-cased keys), and all pairs."""
    first: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for el in root.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop")
        content = el.get("content")
        if key and content:
            k = key.strip().lower()
            pairs.append((k, content.strip()))
            first.setdefault(k, content.strip())
    return first, pairs


def _json_ld(root: lxml.html.HtmlElement) -> dict[str, Any]:
    """``datePublished``, ``articleSection``, ``keywords`` from JSON-LD (bounded walk)."""
    found: dict[str, Any] = {}
    for el in root.iter("script"):
        if (el.get("type") or "").strip().lower() != "application/ld+json" or not el.text:
            continue
        if len(el.text) > MAX_JSON_LD:
            continue
        try:
            data = json.loads(el.text)
        except ValueError:
            continue
        stack, seen = [data], 0
        while stack and seen < 500:
            item, seen = stack.pop(), seen + 1
            if isinstance(item, dict):
                for key in ("datePublished", "articleSection", "keywords"):
                    value = item.get(key)
                    if value and key not in found and isinstance(value, str | list):
                        found[key] = value
                stack.extend(v for v in item.values() if isinstance(v, dict | list))
            elif isinstance(item, list):
                stack.extend(item)
    return found


def _split_tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [t for v in value if (t := clean(v))]
    return [t for v in str(value).split(",") if (t := clean(v))]


def head_info(root: lxml.html.HtmlElement) -> dict[str, Any]:
    """Canonical, titles, published time, language, authors, image, site, section, tags.

    Must run before scripts are stripped (JSON-LD lives in ``<script>``).
    """
    meta, pairs = _meta(root)
    ld = _json_ld(root)
    canonical = None
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            canonical = link.get("href").strip()
            break
    published: datetime | None = None
    for key in _PUBLISHED_META:
        if key in meta and (published := parse_date(meta[key])):
            break
    if published is None and isinstance(ld.get("datePublished"), str):
        published = parse_date(ld["datePublished"])
    lang = normalize_code(root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"))
    if lang is None and "content-language" in meta:
        lang = normalize_code(meta["content-language"].split(",")[0])
    title_el = root.find(".//title")
    authors = [a for a in (clean(meta.get("author")), clean(meta.get("article:author"))) if a]
    section = next((s for k in _SECTION_META if (s := clean(meta.get(k)))), None)
    if section is None and ld.get("articleSection"):
        sec = ld["articleSection"]
        section = clean(sec[0] if isinstance(sec, list) and sec else sec)
    tags: list[str] = []
    for key, value in pairs:
        if key in _TAG_META:
            tags += _split_tags(value) if key != "article:tag" else [value]
    if not tags and ld.get("keywords"):
        tags = _split_tags(ld["keywords"])
    h1 = root.find(".//h1")
    return {
        "canonical": canonical or meta.get("og:url"),  # resolved and vetted by the caller
        "og_title": clean(meta.get("og:title")) or clean(meta.get("twitter:title")),
        "doc_title": clean(title_el.text_content()) if title_el is not None else None,
        "h1": clean(h1.text_content()) if h1 is not None else None,
        "published": published,
        "html_lang": lang,
        "authors": [a for a in authors if not a.lower().startswith(("http://", "https://"))],
        "image": meta.get("og:image") or meta.get("twitter:image") or meta.get("twitter:image:src"),
        "site_name": clean(meta.get("og:site_name")),
        "section": section[:200] if section else None,
        "tags": list(dict.fromkeys(t[:100] for t in tags))[:MAX_TAGS],
    }


__all__ = ["clean", "head_info"]
