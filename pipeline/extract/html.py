"""Main text and page metadata from an article page (untrusted HTML).

trafilatura does the boilerplate removal; around it we (1) decode bytes the way browsers
do, (2) parse with lxml with network access off and scripts/styles dropped, (3) read the
``<head>`` ourselves for what decides identity (canonical URL, ``<html lang>``, published
time), because trafilatura's metadata is tuned for other goals, and (4) drop residual
chrome lines (comment boxes, "read also" teasers, breadcrumbs, share rows) that news
templates put inside the article container where no generic extractor can tell them apart.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from datetime import datetime
from urllib.parse import urljoin

import lxml.etree as etree
import lxml.html
import trafilatura

from pipeline.extract.dates import parse_date
from pipeline.extract.language import normalize_code
from pipeline.models import ExtractError, PageContent

_PARSER = lxml.html.HTMLParser(
    encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True,
    collect_ids=False, default_doctype=False, huge_tree=False,
)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG: these labels mean windows-1252 in browsers, and pages rely on it.
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252",
                    "us-ascii": "cp1252", "x-user-defined": "cp1252"}
_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "datepublished",
    "pubdate", "publishdate", "publish-date", "publication_date", "dc.date.issued",
    "dcterms.created", "sailthru.date", "parsely-pub-date", "date",
)
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol blockquote pre tr table section article header "
    "footer figure figcaption dd dt dl hr address aside main".split()
)

# --- residual chrome, judged per paragraph; only short paragraphs are ever dropped -------
_CHROME_MAX_CHARS = 160
_SOCIAL = r"(?:facebook|twitter|x|linkedin|pinterest|youtube|rss|instagram|whatsapp|telegram|email|e-mail|print|tiktok|reddit|copy link|فيسبوك|تويتر|واتساب|تلغرام|يوتيوب|انستغرام|طباعة)(?:-blank)?"
_CHROME_PATTERNS = [re.compile(p, re.I) for p in (
    rf"^(?:{_SOCIAL}[\s,|·•]*){{2,}}$",
    r"^(?:share|share this|share this article|share on \w+|tweet|شارك|شارك المقال|مشاركة|المشاركة)\s*[:：]?\s*$",
    r"^\d+\s*(?:characters?|chars?)\s*(?:left|remaining)\.?$",
    r"^(?:متبق[يى]\s*\d+\s*حرف[اًا]*|\d+\s*حرف[اًا]*\s*متبق[يى])$",
    r"^(?:join the (?:conversation|discussion)|leave a (?:comment|reply)|add (?:a )?comment|post a comment|comments?\s*\(?\d*\)?|انضم\s+[اإ]لى\s+المحادثة|[أا]ضف\s+تعليق[اًا]*|اترك\s+تعليق[اًا]*|التعليقات|تعليقات)\s*[:：]?$",
    r"^(?:read also|also read|read more|see also|related(?: articles| stories| news| coverage| content)?|recommended(?: for you)?|you may also like|most read|اقر[أا]\s+[أا]يض[اًا]*|اقر[أا]\s+المزيد|مقالات ذات صلة|[أا]خبار ذات صلة|مواضيع ذات صلة|قد يهمك|الأكثر قراءة)(?:\s*[:：\-–—|].*)?$",
    r"^more from [^.!?]{1,40}$",
    r"^(?:نشر في|نُشر في|تاريخ النشر|آخر تحديث|تم النشر|published(?: on)?|updated(?: on)?|last updated|posted(?: on)?)\s*[:：].{0,60}$",
    r"^(?:sign up|subscribe)\b.{0,80}(?:newsletter|inbox|updates)\b.*$",
    r"^(?:اشترك|سجل)\s.{0,60}(?:النشرة|البريدية).*$",
    r"^(?:advertisement|sponsored|scroll to continue.*|إعلان|top|back to top|العودة للأعلى)$",
)]
_BREADCRUMB = re.compile(r"^[^.!?؟:\n]{1,60}(?:\s[>›»/]\s[^.!?؟\n]{1,120}){2,}$")


def decode_html(data: bytes) -> str:
    """Bytes -> text: BOM, then ``<meta charset>``/http-equiv (unless the bytes are valid
    UTF-8), then UTF-8 with replacement."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    m = _META_CHARSET.search(data[:4096])
    if m:
        label = m.group(1).decode("ascii", "ignore").strip().lower()
        label = _CHARSET_ALIASES.get(label, label)
        try:
            enc = codecs.lookup(label).name
        except LookupError:
            enc = "utf-8"
        if enc.startswith("utf-16") or enc.startswith("utf-32"):
            enc = "utf-8"  # a meta tag readable as ASCII cannot be UTF-16; browsers agree
        if enc != "utf-8" and not data.isascii() and _valid_utf8(data):
            # Pages re-saved as UTF-8 keep their old declaration; legacy text is almost
            # never valid multi-byte UTF-8 by chance, so valid UTF-8 wins.
            enc = "utf-8"
        return data.decode(enc, errors="replace")
    return data.decode("utf-8", errors="replace")


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_html(text: str) -> lxml.html.HtmlElement | None:
    """Parse untrusted HTML: no network, no comments/PIs, active content removed."""
    text = text.replace("\x00", "")
    if not text.strip():
        return None
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    if root is None:
        return None
    return root


def _strip_active(root: lxml.html.HtmlElement) -> None:
    etree.strip_elements(root, *_DROP_TAGS, with_tail=False)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def _meta(root: lxml.html.HtmlElement) -> dict[str, str]:
    """First value of every ``<meta name|property|itemprop>`` (lower-cased keys)."""
    out: dict[str, str] = {}
    for el in root.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop")
        content = el.get("content")
        if key and content and key.strip().lower() not in out:
            out[key.strip().lower()] = content.strip()
    return out


def _json_ld_published(root: lxml.html.HtmlElement) -> str | None:
    """``datePublished`` from JSON-LD (read before scripts are stripped)."""
    for el in root.iter("script"):
        if (el.get("type") or "").strip().lower() != "application/ld+json" or not el.text:
            continue
        if len(el.text) > 200_000:
            continue
        try:
            data = json.loads(el.text)
        except ValueError:
            continue
        stack, seen = [data], 0
        while stack and seen < 500:
            item, seen = stack.pop(), seen + 1
            if isinstance(item, dict):
                value = item.get("datePublished")
                if isinstance(value, str) and value.strip():
                    return value
                stack.extend(v for v in item.values() if isinstance(v, dict | list))
            elif isinstance(item, list):
                stack.extend(item)
    return None


def _head_info(root: lxml.html.HtmlElement) -> dict[str, object]:
    meta = _meta(root)
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
    if published is None:
        published = parse_date(_json_ld_published(root))
    lang = normalize_code(root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"))
    if lang is None and "content-language" in meta:
        lang = normalize_code(meta["content-language"].split(",")[0])
    title_el = root.find(".//title")
    authors = [a for a in (_clean(meta.get("author")), _clean(meta.get("article:author"))) if a]
    return {
        "canonical": canonical or meta.get("og:url"),  # resolved in extract_page
        "og_title": _clean(meta.get("og:title")) or _clean(meta.get("twitter:title")),
        "doc_title": _clean(title_el.text_content()) if title_el is not None else None,
        "h1": _clean(h1.text_content()) if (h1 := root.find(".//h1")) is not None else None,
        "published": published,
        "html_lang": lang,
        "authors": [a for a in authors if not a.lower().startswith(("http://", "https://"))],
        "image": meta.get("og:image") or meta.get("twitter:image"),
        "site_name": _clean(meta.get("og:site_name")),
        "tags": [t.strip() for k, t in meta.items() if k == "article:tag" and t.strip()],
    }


def is_chrome(paragraph: str) -> bool:
    """True for a short paragraph that is site furniture, not article text."""
    p = _visible(paragraph)
    if not p:
        return True
    if len(p) > _CHROME_MAX_CHARS:
        return False
    return bool(_BREADCRUMB.match(p)) or any(rx.match(p) for rx in _CHROME_PATTERNS)


def _block_text(el: etree._Element) -> str:
    """Text of one trafilatura output block; ``<lb/>`` become line breaks."""
    parts: list[str] = []

    def rec(node: etree._Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if child.tag == "lb":
                parts.append("\n")
            else:
                rec(child)
            if child.tail:
                parts.append(child.tail)

    rec(el)
    lines = [_visible(line) for line in "".join(parts).split("\n")]
    return "\n".join(line for line in lines if line)


def _visible(line: str) -> str:
    """Drop icon-font glyphs (private use), bidi marks, controls; collapse spaces."""
    kept = "".join(
        ch
        for ch in line
        if ch in "\u200c\u200d" or unicodedata.category(ch) not in ("Co", "Cf", "Cc")
    )  # ZWNJ/ZWJ stay: Persian spelling depends on them
    return " ".join(kept.split())


def _paragraphs_from_body(body: etree._Element) -> list[str]:
    out: list[str] = []
    for block in body:
        if block.tag == "list":
            out.extend(t for item in block.iter("item") if (t := _block_text(item)))
        elif block.tag == "table":
            continue
        elif text := _block_text(block):
            out.append(text)
    return out


def _filter(paragraphs: list[str], titles: set[str]) -> list[str]:
    kept: list[str] = []
    for i, para in enumerate(paragraphs):
        if i == 0 and _visible(para) in titles:
            continue  # the headline repeated as the first block
        lines = [ln for ln in para.split("\n") if not is_chrome(ln)]
        if lines and not is_chrome(" ".join(lines)):
            kept.append("\n".join(lines))
    return kept


def _article_fallback(root: lxml.html.HtmlElement) -> list[str]:
    """Paragraphs of the ``<article>`` element(s), when trafilatura finds nothing."""
    paras: list[str] = []
    for art in root.iter("article"):
        for p in art.iter("p"):
            text = _visible(p.text_content())
            if text:
                paras.append(text)
    return paras


def _absolute(href: str | None, base: str) -> str | None:
    """The page's declared canonical, made absolute; not yet trusted (see urls.py)."""
    if not href:
        return None
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return None


def extract_page(html: bytes | str, url: str) -> PageContent:
    """Main text (paragraphs separated by a blank line) and metadata of an article page.

    Raises ``ExtractError`` with reason ``empty_page`` or ``no_main_text``.
    """
    text = decode_html(html) if isinstance(html, bytes) else html
    if not text or not text.strip():
        raise ExtractError(f"empty document at {url}", reason="empty_page")
    root = parse_html(text)
    if root is None or not " ".join(root.text_content().split()):
        raise ExtractError(f"no content in document at {url}", reason="empty_page")
    head = _head_info(root)
    _strip_active(root)
    fallback = _article_fallback(root)  # read before trafilatura touches the tree

    doc = None
    try:
        doc = trafilatura.bare_extraction(
            root, url=url, include_comments=False, favor_precision=True, with_metadata=True,
            include_tables=False, include_images=False, include_links=False,
            deduplicate=False,
        )
    except Exception:  # noqa: BLE001 - a third-party parser failing on one page is a reject
        doc = None
    # og:title is the editor's headline; trafilatura's title strips "| Site" from <title>.
    doc_title = _clean(doc.title) if doc is not None else None
    h1, raw_title = head["h1"], head["doc_title"]
    h1_in_title = h1 if h1 and raw_title and h1 in raw_title else None  # type: ignore[operator]
    title = head["og_title"] or h1_in_title or doc_title or raw_title or h1
    titles = {t for t in (title, doc_title, head["doc_title"], head["h1"]) if t}
    paragraphs = _paragraphs_from_body(doc.body) if doc is not None and doc.body is not None else []
    paragraphs = _filter(paragraphs, titles)  # type: ignore[arg-type]
    if not paragraphs:
        paragraphs = _filter(fallback, titles)  # type: ignore[arg-type]
    if not paragraphs:
        raise ExtractError(f"no article text found at {url}", reason="no_main_text")

    authors = list(head["authors"])  # type: ignore[arg-type]
    if doc is not None and doc.author:
        authors += [a.strip() for a in doc.author.split(";") if a.strip()]
    published = head["published"]
    if published is None and doc is not None and doc.date:
        published = parse_date(doc.date)
    tags = list(head["tags"])  # type: ignore[arg-type]
    if doc is not None:
        tags += list(doc.tags or []) + list(doc.categories or [])
    return PageContent(
        url=url,
        title=title,
        text="\n\n".join(paragraphs),
        authors=list(dict.fromkeys(authors)),
        published=published,  # type: ignore[arg-type]
        canonical_url=_absolute(head["canonical"], url),  # type: ignore[arg-type]
        html_lang=head["html_lang"],  # type: ignore[arg-type]
        image_url=head["image"] or (doc.image if doc is not None else None),  # type: ignore[arg-type]
        tags=list(dict.fromkeys(t for t in tags if t)),
        site_name=head["site_name"] or (_clean(doc.sitename) if doc is not None else None),  # type: ignore[arg-type]
    )


def html_to_text(fragment: str) -> str:
    """Feed content HTML -> plain text, one paragraph per block, separated by a blank line."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        import html as _html

        paras = re.split(r"\n\s*\n", _html.unescape(fragment))
        return "\n\n".join(p for p in (" ".join(x.split()) for x in paras) if p)
    try:
        root = lxml.html.fragment_fromstring(
            fragment.replace("\x00", "").encode("utf-8"), create_parent="div", parser=_PARSER
        )
    except (etree.ParserError, ValueError):
        return ""
    _strip_active(root)
    paras: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        text = " ".join("".join(buf).split())
        if text:
            paras.append(text)
        buf.clear()

    def walk(el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        block = tag in _BLOCK_TAGS or tag == "br"
        if block:
            flush()
        if el.text and tag != "br":
            buf.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush()
        if el.tail:
            buf.append(el.tail)

    walk(root)
    flush()
    return "\n\n".join(paras)


__all__ = ["decode_html", "extract_page", "html_to_text", "is_chrome", "parse_html"]
