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


def sanitize_html(fragment: str | None) -> str:
    """A safe HTML fragment (empty string for empty or unparseable input)."""
    if not fragment or not fragment.strip():
        return ""
    try:
        return _CLEANER.clean_html(fragment).strip()
    except (etree.ParserError, ValueError):
        return html.escape(html_to_text(fragment))


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
