"""Decide how a feed's bytes are encoded and turn them into text.

Order of authority (first that applies wins):

1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE): the bytes cannot lie about it;
2. the ``charset`` parameter of the HTTP ``Content-Type`` (RFC 7303 gives the transport
   precedence over the document);
3. the ``encoding`` pseudo-attribute of the XML declaration;
4. UTF-8 (the XML default).

A candidate Python does not know is skipped.  When the chosen encoding cannot decode the
bytes strictly, we try the next candidates and finally UTF-8 / windows-1252 with
replacement characters, and say so in a warning, so a mislabelled feed still yields its
entries (the raw bytes are kept upstream for replay).

Why we decode ourselves instead of letting feedparser do it: feedparser follows RFC 3023,
where ``text/xml`` without a charset means US-ASCII and overrides the XML declaration; real
servers send ``text/xml`` for UTF-8 and windows-1256 feeds alike.  We hand feedparser UTF-8
with a matching declaration and ``content-type: application/xml; charset=utf-8``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# BOM-less UTF-16/32 recognised by how '<?' is laid out (XML 1.0 appendix F).
_NO_BOM: list[tuple[bytes, str]] = [
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
]
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:\-]+)""", re.I)
_XML_DECL = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")
_XML_DECL_ENC = re.compile(r"""(<\?xml[^>]*?encoding\s*=\s*)(["'])[A-Za-z0-9._:\-]*\2""")


@dataclass
class Decoded:
    text: str
    encoding: str  # the Python codec name used
    source: str  # bom | http | xml | default | fallback
    warnings: list[str] = field(default_factory=list)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def http_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CHARSET.search(content_type)
    return m.group(1) if m else None


def xml_declared_encoding(body: bytes, width_codec: str | None = None) -> str | None:
    """The XML declaration's encoding, read in an ASCII-compatible way (or ``width_codec``)."""
    head = body[:1024]
    try:
        text = head.decode(width_codec or "latin-1", errors="replace")
    except LookupError:
        return None
    m = _XML_DECL.match(text.lstrip("\ufeff"))
    return m.group(1) if m else None


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """Bytes to text following the order in the module docstring."""
    warnings: list[str] = []
    candidates: list[tuple[str, str]] = []
    for bom, enc in _BOMS:
        if body.startswith(bom):
            candidates.append((enc, "bom"))
            body = body[len(bom) :]
            break
    http = http_charset(content_type)
    if http and not _codec(http):
        warnings.append(f"unknown HTTP charset {http!r} ignored")
    elif http:
        candidates.append((_codec(http) or http, "http"))
    width = next((enc for prefix, enc in _NO_BOM if body.startswith(prefix)), None)
    declared = xml_declared_encoding(body, width)
    if declared and not _codec(declared):
        warnings.append(f"unknown XML encoding {declared!r} ignored")
    elif declared:
        enc = _codec(declared) or declared
        if width and enc.startswith(("utf-16", "utf-32")):
            enc = width  # the byte layout tells the endianness the name leaves open
        candidates.append((enc, "xml"))
    if width:
        candidates.append((width, "xml"))
    candidates.append(("utf-8", "default"))

    first = candidates[0]
    for enc, source in candidates:
        # A declaration of "utf-16" read from ASCII-compatible bytes is a lie: skip it.
        if enc.startswith(("utf-16", "utf-32")) and not width and source != "bom":
            continue
        try:
            text = body.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if (enc, source) != first:
            warnings.append(f"{first[1]} encoding {first[0]} failed; decoded as {enc} ({source})")
        return Decoded(text.lstrip("\ufeff"), enc, source, warnings)
    try:
        enc, text = "windows-1252", body.decode("windows-1252")
    except UnicodeDecodeError:
        enc, text = "utf-8", body.decode("utf-8", errors="replace")
    warnings.append(f"no declared encoding decodes cleanly; used {enc} with replacement")
    return Decoded(text.lstrip("\ufeff"), enc, "fallback", warnings)


def as_utf8_xml(text: str) -> bytes:
    """Re-encode decoded XML as UTF-8, making its declaration (if any) say so."""
    return _XML_DECL_ENC.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8")
