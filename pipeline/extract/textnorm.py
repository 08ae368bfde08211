"""Text normalisation for *matching* (hashing, shingling, anchors), not for display.

Two copies of one article differ in ways a reader never sees: NFKC presentation forms,
invisible bidi/zero-width controls, Arabic diacritics and tatweel, hamza spellings of
alef, Arabic-Indic vs ASCII digits, thousands separators.  ``normalize_for_matching``
folds all of that away so exact hashes and shingles compare the words, not the encoding.

``sentences`` splits Arabic and English (and other Latin-script) text into sentences for
the translation aligner; it keeps decimals and common abbreviations ("U.S.", "Mr.")
intact and drops short fragments (bylines, breadcrumbs) that would align by chance.
"""

from __future__ import annotations

import re
import unicodedata


def _char_class(code_points: list[int]) -> str:
    """A regex character class of ``code_points`` (sorted), as ranges."""
    ranges: list[list[int]] = []
    for cp in code_points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "[" + "".join(re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b))) for a, b in ranges) + "]"


# Invisible controls that copy/paste and CMSs sprinkle into text.
_INVISIBLE = dict.fromkeys(
    [0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x00AD, 0x061C]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A)),
    None,
)

# Arabic harakat, superscript alef, Quranic annotation marks, tatweel.
_ARABIC_MARKS = (
    list(range(0x0610, 0x061B))
    + list(range(0x064B, 0x0660))
    + [0x0670, 0x0640]
    + list(range(0x06D6, 0x06DD))
    + list(range(0x06DF, 0x06E5))
    + [0x06E7, 0x06E8]
    + list(range(0x06EA, 0x06EE))
)

_FOLD = {cp: None for cp in _ARABIC_MARKS}
_FOLD.update(
    {
        ord("أ"): "ا",
        ord("إ"): "ا",
        ord("آ"): "ا",
        ord("ٱ"): "ا",
        ord("ى"): "ي",
        ord("ة"): "ه",
        ord("ؤ"): "و",
        ord("ئ"): "ي",
        # Persian letter forms that Arabic sites also use interchangeably.
        ord("ی"): "ي",
        ord("ک"): "ك",
        ord("ۀ"): "ه",
        ord("ە"): "ه",
    }
)
# Arabic-Indic (U+0660..) and extended/Persian (U+06F0..) digits -> ASCII.
_FOLD.update({0x0660 + i: str(i) for i in range(10)})
_FOLD.update({0x06F0 + i: str(i) for i in range(10)})

DIGIT_FOLD = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}

_HAS_INVISIBLE = re.compile(_char_class(sorted(_INVISIBLE)))
_HAS_FOLD = re.compile(_char_class(sorted(_FOLD)))

_THOUSANDS = re.compile(r"(?<=\d)[,٬'’\u066c](?=\d{3}(?!\d))")
_ARABIC_DECIMAL = re.compile(r"(?<=\d)\u066b(?=\d)")
_WS = re.compile(r"\s+")


def fold_digits(text: str) -> str:
    """Arabic-Indic and Persian digits to ASCII; same length, so offsets survive."""
    return text.translate(DIGIT_FOLD)


def fold_number_separators(text: str) -> str:
    """``1,250,000`` / ``1٬250٬000`` -> ``1250000``; ``3٫5`` -> ``3.5`` (digits already ASCII)."""
    removed = 1
    while removed:  # each pass removes separators whose right side is a 3-digit group
        text, removed = _THOUSANDS.subn("", text)
    return _ARABIC_DECIMAL.sub(".", text)


def _keep_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "LNM" or ch.isspace()


_DECIMAL_MARK = "\ue000"  # private use: stands for a decimal point while punctuation goes
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")

# Every run of BMP code points that are not a letter, number, mark or space -> " " (one
# C-level regex pass: twice as fast as a str.translate table, and the runs' spaces are
# collapsed at the end anyway); astral ones take the slow path.
_PUNCT = re.compile(_char_class([cp for cp in range(0x10000)
                                 if not _keep_char(chr(cp)) and chr(cp) != _DECIMAL_MARK]) + "+")
_ASTRAL = re.compile(r"[\U00010000-\U0010FFFF]")


def normalize_for_matching(text: str) -> str:
    """Fold everything that differs between copies of the same words; see module doc."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    # str.translate looks every character up in the dict (~70 ns each): a regex scan first
    # skips the tables a text has nothing for (most texts have no invisible controls, and
    # a Latin-script one nothing to fold); the result is the same either way.
    if _HAS_INVISIBLE.search(text):
        text = text.translate(_INVISIBLE)
    text = text.casefold()
    if _HAS_FOLD.search(text):
        text = text.translate(_FOLD)
    text = fold_number_separators(text)
    text = _PUNCT.sub(" ", _DECIMAL.sub(_DECIMAL_MARK, text)).replace(_DECIMAL_MARK, ".")
    if _ASTRAL.search(text):
        text = _ASTRAL.sub(lambda m: m.group(0) if _keep_char(m.group(0)) else " ", text)
    return _WS.sub(" ", text).strip()


# ----------------------------------------------------------------------------- sentences

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "gen", "col", "lt", "sgt", "capt",
    "gov", "sen", "rep", "rev", "hon", "pres", "no", "vs", "etc", "inc", "ltd", "co",
    "corp", "dept", "fig", "est", "approx", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft", "maj", "adm", "cmdr", "e.g",
    "i.e", "al",
}
# Sentence end: terminal punctuation (optionally followed by closing quotes/brackets)
# and whitespace.  Line breaks always end a sentence.
_END = re.compile(r"([.!?؟۔]+)([\"'”’»)\]]*)(\s+)")


def is_abbreviation(before: str) -> bool:
    """True when the text before a period ends in an abbreviation, not a sentence."""
    tail = before.rsplit(None, 1)[-1] if before.strip() else ""
    tail = tail.lstrip("\"'“‘«([")
    word = tail.rstrip(".").casefold()
    if word in _ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha() and tail[:1].isupper():
        return True  # an initial: "John F. Kennedy"
    parts = tail.rstrip(".").split(".")
    return len(parts) >= 2 and all(1 <= len(p) <= 2 for p in parts)  # "U.S.", "U.N."


def sentences(text: str, min_words: int = 4) -> list[str]:
    """Split into sentences; drop fragments with fewer than ``min_words`` words."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for m in _END.finditer(line):
            end = m.end(2)
            if m.group(1) == "." and is_abbreviation(line[start : m.start(1)]):
                continue
            out.append(line[start:end].strip())
            start = m.end()
        out.append(line[start:].strip())
    return [s for s in out if len(s.split()) >= min_words]


def sentence_spans(text: str, sents: list[str] | None = None) -> list[tuple[int, int]]:
    """Character offsets of ``sentences(text)`` in ``text`` (for evidence that points at
    the passages it aligned); a sentence that cannot be located gets (-1, -1)."""
    out: list[tuple[int, int]] = []
    pos = 0
    for s in sentences(text) if sents is None else sents:
        at = text.find(s, pos)
        if at < 0:
            out.append((-1, -1))
            continue
        out.append((at, at + len(s)))
        pos = at + len(s)
    return out
