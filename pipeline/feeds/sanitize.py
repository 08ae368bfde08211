"""HTML fragments from feeds: sanitize them, or reduce them to plain text.

feedparser sanitizes the HTML of RSS/Atom itself; JSON Feed HTML comes to us raw, so it
goes through the same kind of cleaning here (scripts, styles, ``on*`` handlers,
``javascript:`` URLs, frames, forms and embeds removed) before it is stored anywhere.
"""

from __future__ import annotations

import html
import re

import lxml.html
from lxml import etree
from lxml_html_clean import Cleaner

_CLEANER = Cleaner(
    scripts=True,
    javascript=True,
    comments=True,
    style=True,
    inline_style=True,
    links=True,
    meta=True,
    page_structure=True,
    processing_instructions=True,
    embedded=True,
    frames=True,
    forms=True,
    annoying_tags=True,
    remove_unknown_tags=True,
    safe_attrs_only=True,
)
_WS = re.compile(r"\s+")


def sanitize_html(fragment: str | None, base_url: str | None = None) -> str:
    """A safe HTML fragment with links made absolute against ``base_url`` when given.

    Plain text (no ``<``) is returned as is: it is already valid, harmless HTML.
    """
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return fragment.strip()
    try:
        doc = lxml.html.fragment_fromstring(fragment, create_parent="div")
        if base_url:
            doc.make_links_absolute(base_url, resolve_base_href=False, handle_failures="discard")
        _CLEANER(doc)
    except (etree.ParserError, ValueError):
        return html.escape(html_to_text(fragment))
    inner = [html.escape(doc.text or "", quote=False)]
    inner += [lxml.html.tostring(child, encoding="unicode") for child in doc]
    return "".join(inner).strip()


def html_to_text(fragment: str | None) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    if not fragment:
        return ""
    if "<" not in fragment and "&" not in fragment:
        return _WS.sub(" ", fragment).strip()
    try:
        doc = lxml.html.fragment_fromstring(fragment, create_parent="div")
        for bad in doc.xpath("//script|//style"):
            bad.drop_tree()
        text = doc.text_content()
    except (etree.ParserError, ValueError):
        text = html.unescape(re.sub(r"<[^>]*>", " ", fragment))
    return _WS.sub(" ", text).strip()
