"""Bytes of an untrusted page -> text, or a reasoned refusal.

Browsers decode by BOM, then the declared charset, then a guess; pages rely on all three
and on their quirks (``iso-8859-1`` means windows-1252).  We do the same, with two
corrections real pages need: (1) bytes that are valid multi-byte UTF-8 are UTF-8 whatever
the ``<meta>`` says (a re-saved page keeps its old declaration), and (2) bytes that are
*not* UTF-8 although declared (or defaulted) as UTF-8 are mislabelled legacy text, so the
charset is detected from the bytes (charset_normalizer).  A few stray invalid bytes in
otherwise valid UTF-8 are not mislabelling: they become U+FFFD and the page is kept.

Binary bodies (images, PDFs, archives served as text/html) are refused before parsing,
and so is text that stays mostly undecodable after all of the above.
"""

from __future__ import annotations

import codecs
import re

from pipeline.models import ExtractError

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG: these labels mean windows-1252 in browsers, and pages rely on it.
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252",
                    "us-ascii": "cp1252", "x-user-defined": "cp1252"}
_MAGIC = (
    b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"%PDF-", b"PK\x03\x04", b"\x1f\x8b",
    b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"RIFF", b"OggS", b"\x00\x00\x01\x00", b"wOFF",
    b"wOF2", b"\x7fELF", b"MZ", b"ID3", b"fLaC",
)
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\x1b")
_ASCII = bytes(range(128))
SNIFF_BYTES = 8192
MAX_CONTROL_SHARE = 0.05  # more control bytes than this in the first 8 KB: not text
MAX_INVALID_SHARE = 0.02  # invalid UTF-8 sequences per non-ASCII byte before we re-detect
MIN_DETECT_BYTES = 16  # fewer non-ASCII bytes than this: too little to guess a charset from
MAX_REPLACEMENT_SHARE = 0.25  # U+FFFD per letter after decoding: undecodable


def looks_binary(data: bytes) -> bool:
    """True for bodies that are not text: known file signatures or many control bytes."""
    head = data[:SNIFF_BYTES]
    if head.lstrip().startswith(_MAGIC):
        return True
    if any(head.startswith(bom) for bom, enc in _BOMS if enc.startswith(("utf-16", "utf-32"))):
        return False  # UTF-16/32 text is full of NULs by design
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    return bool(head) and controls / len(head) > MAX_CONTROL_SHARE


def _invalid_share(data: bytes) -> float:
    non_ascii = len(data.translate(None, _ASCII))
    if not non_ascii:
        return 0.0
    bad = data.decode("utf-8", errors="replace").count("\ufffd") - data.count(b"\xef\xbf\xbd")
    return max(0, bad) / non_ascii


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    return best.encoding if best is not None else None


def decode_html(data: bytes) -> str:
    """Bytes -> text, as described in the module docstring.  Never raises."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    enc = "utf-8"
    m = _META_CHARSET.search(data[:4096])
    if m:
        label = m.group(1).decode("ascii", "ignore").strip().lower()
        label = _CHARSET_ALIASES.get(label, label)
        try:
            enc = codecs.lookup(label).name
        except LookupError:
            enc = "utf-8"
        if enc.startswith(("utf-16", "utf-32")):
            enc = "utf-8"  # a meta tag readable as ASCII cannot be UTF-16; browsers agree
    if enc != "utf-8":
        if not data.isascii() and _invalid_share(data) == 0.0:
            enc = "utf-8"  # valid multi-byte UTF-8 is never legacy text by chance
        return data.decode(enc, errors="replace")
    if len(data.translate(None, _ASCII)) >= MIN_DETECT_BYTES and _invalid_share(data) > MAX_INVALID_SHARE:
        detected = _detect(data)
        if detected:
            try:
                return data.decode(detected, errors="replace")
            except LookupError:
                pass
    return data.decode("utf-8", errors="replace")


def page_text(data: bytes | str, url: str) -> str:
    """Decoded text of a page, or ``ExtractError`` (``empty_page``, ``binary_content``,
    ``undecodable``)."""
    if isinstance(data, bytes):
        if not data.strip():
            raise ExtractError(f"empty document at {url}", reason="empty_page")
        if looks_binary(data):
            raise ExtractError(f"binary content at {url}", reason="binary_content")
        text = decode_html(data)
    else:
        text = data
    if not text or not text.strip():
        raise ExtractError(f"empty document at {url}", reason="empty_page")
    sample = text[:200_000]
    bad = sample.count("\ufffd")
    # count letters (a Python-level loop over the page) only when there is something to weigh
    if bad and bad / (sum(1 for ch in sample if ch.isalpha()) or 1) > MAX_REPLACEMENT_SHARE:
        raise ExtractError(f"undecodable text at {url}", reason="undecodable")
    return text


__all__ = ["decode_html", "looks_binary", "page_text"]
