"""Main text and page metadata from an article page (untrusted HTML).

trafilatura does the boilerplate removal; around it we (1) decode bytes the way browsers
do and refuse binary/undecodable bodies (``decode.py``), (2) parse with lxml with network
access off, a nesting-depth limit and scripts/styles dropped, (3) read the ``<head>``
ourselves for what decides identity (``pagemeta.py``), (4) run trafilatura twice, in
precision and in its default (balanced) mode, and keep the balanced text when it is only
a little longer (the precision mode dropped real paragraphs) or when it is many times
longer (the precision mode lost the article), else the precise one (the extra is chrome),
and (5) drop residual chrome lines (comment boxes, "read also" teasers, breadcrumbs, share
rows) that templates put inside the article container.  ``newsflow eval extraction``
measures the result against plain trafilatura on labelled pages (docs/articles.md).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.etree as etree
import lxml.html
import trafilatura
from trafilatura.metadata import extract_metadata
from trafilatura.settings import DEFAULT_CONFIG, set_date_params

from pipeline.extract.attribution import visible_text as _visible
from pipeline.extract.dates import parse_date
from pipeline.extract.decode import decode_html, page_text
from pipeline.extract.pagemeta import clean as _clean
from pipeline.extract.pagemeta import head_info
from pipeline.models import ExtractError, PageContent

MAX_HTML_CHARS = 12_000_000  # above this a page is refused (fetches are capped lower)
# Balanced-vs-precise choice (see module docstring); tuned on shared/corpora/html.
BALANCED_IF_AT_MOST = 1.4
BALANCED_IF_AT_LEAST = 5.0
SAME_TEXT = 0.02
LOOSE_TEXT_MIN_WORDS = 8  # text outside any block must be a sentence to count


# lxml.html picks each element's Python class with a Python callback
# (``HtmlElementClassLookup.lookup``), called whenever lxml makes a proxy for a node: about
# 5,600 times per page, mostly inside trafilatura, which works on copies of our tree and so
# inherits our parser's lookup.  This C-level lookup gives every node the very class the
# callback gives (the five form classes by tag name, ``HtmlElement`` otherwise) and took
# 2-4 % off a page's extraction (best and median of six interleaved runs).
_CLASSES = etree.ElementNamespaceClassLookup(etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity,
))
_CLASSES.get_namespace(None).update(lxml.html.HtmlElementClassLookup._default_element_classes)


def _parser() -> lxml.html.HTMLParser:
    # One parser per call: its error log is read afterwards and parsers are not thread-safe.
    parser = lxml.html.HTMLParser(
        encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True,
        collect_ids=False, default_doctype=False, huge_tree=False,
    )
    parser.set_element_class_lookup(_CLASSES)
    return parser


_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg")
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


def parse_html(text: str, url: str = "") -> lxml.html.HtmlElement | None:
    """Parse untrusted HTML: no network, no comments/PIs, nesting limited by libxml2.

    Raises ``ExtractError("too_deep")`` when libxml2 stopped at its depth limit and nothing
    readable was parsed (10 MB of nested ``<div>`` is a page, not an article).
    """
    text = text.replace("\x00", "")
    if not text.strip():
        return None
    parser = _parser()
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return None
    too_deep = any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)
    if too_deep and (root is None or not root.text_content().strip()):
        raise ExtractError(f"markup nested too deeply at {url}", reason="too_deep")
    return root


def _strip_active(root: lxml.html.HtmlElement) -> None:
    etree.strip_elements(root, *_DROP_TAGS, with_tail=False)


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


def _paragraphs_from_body(body: etree._Element) -> list[str]:
    """One paragraph per output block, plus text trafilatura left loose between blocks
    (``body.text`` and block tails: a closing sentence outside any ``<p>`` lands there).
    Loose text counts only when it reads like prose, not a stray "(c)" or menu word."""
    out: list[str] = []
    if body.text and _is_prose(loose := _visible(body.text)):
        out.append(loose)
    for block in body:
        if block.tag == "list":
            out.extend(t for item in block.iter("item") if (t := _block_text(item)))
        elif block.tag != "table" and (text := _block_text(block)):
            out.append(text)
        if block.tail and _is_prose(loose := _visible(block.tail)):
            out.append(loose)
    return out


def _is_prose(text: str) -> bool:
    return len(text.split()) >= LOOSE_TEXT_MIN_WORDS


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


_DATE_PARAMS = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))


def _trafilatura(root: lxml.html.HtmlElement, url: str, precise: bool):  # noqa: ANN202
    """The main text in one mode.  trafilatura copies the tree it is given (and its
    metadata reader deep-copies it), so ``root`` stays as it was and ``_article_fallback``
    can read it afterwards; the metadata is read once, by ``_metadata``, for both modes."""
    try:
        return trafilatura.bare_extraction(
            root, url=url, include_comments=False, favor_precision=precise, with_metadata=False,
            include_tables=False, include_images=False, include_links=False,
            deduplicate=False,
        )
    except Exception:  # noqa: BLE001 - a third-party parser failing on one page is a reject
        return None


def _metadata(root: lxml.html.HtmlElement, url: str):  # noqa: ANN202
    """trafilatura's metadata (author, date, tags, site name), with the parameters
    ``bare_extraction(with_metadata=True)`` uses.  Read once: it is the same in both modes
    and cost a sixth of the extraction time when each mode read it again."""
    try:
        return extract_metadata(root, url, _DATE_PARAMS, False, None)
    except Exception:  # noqa: BLE001 - missing metadata is not a reason to reject the page
        return None


def _choose(precise: list[str], balanced: list[str]) -> list[str]:
    """Balanced text when it adds little (lost paragraphs) or very much (lost article)."""
    p_len, b_len = sum(map(len, precise)), sum(map(len, balanced))
    if not p_len:
        return balanced
    ratio = b_len / p_len
    if abs(ratio - 1.0) <= SAME_TEXT and len(precise) > len(balanced):
        return precise  # same words, but the precise mode kept the paragraph breaks
    return balanced if ratio <= BALANCED_IF_AT_MOST or ratio >= BALANCED_IF_AT_LEAST else precise


def extract_page(html: bytes | str, url: str, *, passes: int = 2) -> PageContent:
    """Main text (paragraphs separated by a blank line) and metadata of an article page.

    ``passes=1`` runs trafilatura's balanced mode only where the precision mode found
    nothing: about 1.7 times the pages per second, at F1 0.950 instead of 0.958 on
    ``corpora/html`` (plain trafilatura: 0.943); for archive backfills (docs/articles.md).

    Raises ``ExtractError`` with reason ``empty_page``, ``binary_content``, ``undecodable``,
    ``too_large``, ``too_deep`` or ``no_main_text``; never anything else for bad input.
    """
    if len(html) > MAX_HTML_CHARS:
        raise ExtractError(f"page of {len(html)} bytes at {url}", reason="too_large")
    text = page_text(html, url)
    root = parse_html(text, url)
    if root is None or not any(t.strip() for t in root.itertext()):  # stops at the first word
        raise ExtractError(f"no content in document at {url}", reason="empty_page")
    head = head_info(root)
    _strip_active(root)

    meta = _metadata(root, url)
    doc = _trafilatura(root, url, precise=True)
    # og:title is the editor's headline; trafilatura's title strips "| Site" from <title>.
    doc_title = _clean(meta.title) if meta is not None else None
    h1, raw_title = head["h1"], head["doc_title"]
    h1_in_title = h1 if h1 and raw_title and h1 in raw_title else None
    title = head["og_title"] or h1_in_title or doc_title or raw_title or h1
    # The first block is dropped as a repeated headline only when it is the headline
    # (an <h1> that is not the title, e.g. a kicker, is article text).
    titles = {t for t in (head["og_title"], raw_title, h1_in_title) if t}
    precise = _filter(_paragraphs_from_body(doc.body), titles) if doc is not None and doc.body is not None else []
    if passes == 1 and precise:
        balanced = precise
    else:
        balanced_doc = _trafilatura(root, url, precise=False)
        balanced = (
            _filter(_paragraphs_from_body(balanced_doc.body), titles)
            if balanced_doc is not None and balanced_doc.body is not None else []
        )
    paragraphs = _choose(precise, balanced)
    if not precise or not paragraphs:  # read only when used: most pages never need it
        article_paras = _filter(_article_fallback(root), titles)
        if not precise and sum(map(len, article_paras)) >= 0.8 * sum(map(len, balanced)):
            # precision mode found nothing: the page's own <article> paragraphs keep its
            # structure better than the balanced mode's merged blocks
            paragraphs = article_paras
        if not paragraphs:
            paragraphs = article_paras
    if not paragraphs:
        raise ExtractError(f"no article text found at {url}", reason="no_main_text")

    authors = list(head["authors"])
    if meta is not None and meta.author:
        authors += [a.strip() for a in meta.author.split(";") if a.strip()]
    published = head["published"]
    if published is None and meta is not None and meta.date:
        published = parse_date(meta.date)
    tags = list(head["tags"])
    if meta is not None:
        tags += list(meta.tags or []) + list(meta.categories or [])
    section = head["section"] or (_clean(meta.categories[0]) if meta is not None and meta.categories else None)
    return PageContent(
        url=url,
        title=title,
        text="\n\n".join(paragraphs),
        authors=list(dict.fromkeys(authors)),
        published=published,
        canonical_url=_absolute(head["canonical"], url),
        html_lang=head["html_lang"],
        image_url=_absolute(head["image"] or (meta.image if meta is not None else None), url),
        tags=list(dict.fromkeys(t for t in tags if t)),
        site_name=head["site_name"] or (_clean(meta.sitename) if meta is not None else None),
        section=section,
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
            fragment.replace("\x00", "").encode("utf-8"), create_parent="div", parser=_parser()
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


__all__ = ["decode_html", "extract_page", "html_to_text", "is_chrome", "parse_html", "page_text"]
