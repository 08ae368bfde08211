"""Refuse XML documents that declare entities, before any parser sees them.

Why: entity declarations are the vehicle for "billion laughs" (exponential expansion)
and external-entity attacks (``<!ENTITY x SYSTEM "file:///etc/passwd">``).  Feeds and
OPML files never need them, so we refuse any declaration in the prolog that contains an
ENTITY.  The scan walks the prolog only (XML declaration, comments, processing
instructions, DOCTYPE with its internal subset, up to the first element) with a
quote- and bracket-aware tokenizer; it expands nothing, so a hostile document costs a
linear pass.  ``<!ENTITY`` inside a CDATA section of the body is content and allowed.
"""

from __future__ import annotations

import re

_ENTITY = re.compile(r"<!\s*ENTITY", re.I)
_DOCTYPE = re.compile(r"<!\s*DOCTYPE", re.I)
# Tokens inside a declaration: plain runs, quoted strings, brackets, the closing '>'.
_DECL_TOKEN = re.compile(r"""[^'"\[\]>]+|'[^']*'|"[^"]*"|['"]|\[|\]|>""")


def _declaration_end(text: str, start: int) -> int:
    """Index just past the '>' that closes the declaration at ``start`` (or len(text))."""
    depth = 0
    for m in _DECL_TOKEN.finditer(text, start + 2):
        tok = m.group()
        if tok == "[":
            depth += 1
        elif tok == "]":
            depth = max(0, depth - 1)
        elif tok == ">" and depth == 0:
            return m.end()
    return len(text)


def prolog_declarations(text: str) -> list[str]:
    """The ``<!...>`` declarations (DOCTYPE etc.) before the root element."""
    decls: list[str] = []
    i = 0
    while True:
        j = text.find("<", i)
        if j < 0:
            return decls
        if text.startswith("<!--", j):
            k = text.find("-->", j + 4)
            if k < 0:
                return decls
            i = k + 3
        elif text.startswith("<?", j):
            k = text.find("?>", j + 2)
            if k < 0:
                return decls
            i = k + 2
        elif text.startswith("<!", j):
            end = _declaration_end(text, j)
            decls.append(text[j:end])
            i = end
        else:
            return decls  # the root element: the prolog is over


def declares_entities(text: str) -> bool:
    """True when the prolog declares an ENTITY (in a DOCTYPE's internal subset or loose)."""
    return any(_ENTITY.search(d) for d in prolog_declarations(text))


def has_doctype(text: str) -> bool:
    return any(_DOCTYPE.match(d) for d in prolog_declarations(text))


# Drupal-era feeds declare the W3C XHTML character-entity sets as external parameter
# entities so that &nbsp; etc. validate.  Loading them is exactly what we forbid, but the
# declaration is harmless once removed (feedparser's fallback parser knows HTML entities).
_W3C_ENTITY_SET = re.compile(
    r"""<!ENTITY\s+%\s+[\w.-]+\s+PUBLIC\s+(["'])-//W3C//ENTITIES [^"']{1,60} for XHTML//EN\1\s+"""
    r"""(["'])https?://www\.w3\.org/TR/xhtml1/DTD/xhtml-(?:lat1|symbol|special)\.ent\2\s*>""",
    re.I,
)
_SUBSET_LEFTOVER = re.compile(r"^<!DOCTYPE\s+[\w:.-]+\s*\[(?:\s|%[\w.-]+;)*\]\s*>$", re.I)


def strip_w3c_entity_doctype(text: str) -> tuple[str, bool]:
    """Remove a DOCTYPE whose only declarations load the W3C XHTML entity sets.

    Returns (text, True) when stripped; anything else is left for
    :func:`declares_entities` to refuse.
    """
    decls = [d for d in prolog_declarations(text) if _DOCTYPE.match(d)]
    if len(decls) != 1 or not _W3C_ENTITY_SET.search(decls[0]):
        return text, False
    if not _SUBSET_LEFTOVER.match(_W3C_ENTITY_SET.sub("", decls[0]).strip()):
        return text, False
    return text.replace(decls[0], "", 1), True
