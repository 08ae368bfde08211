"""Language-independent anchors: numbers, years, dates and name keys.

A translation keeps its numbers, dates and names while every word around them changes,
so these tokens corroborate a sentence-embedding alignment (and are the only evidence
for languages the encoder does not cover).  Positions are character offsets into the
text given.

Names across scripts meet through a *consonant skeleton*: Arabic-script and Latin
letters map to one small class alphabet, vowels (and medial w/y, which Arabic writes as
long vowels) are dropped, doubled classes collapse: "محمد", "Mohammed" and "Muhammad"
all become ``mhmd``; "ترامب" and "Trump" become ``trmb``.  Latin text contributes
capitalised words (names) only; Arabic script has no capitals, so every content word
with a long enough skeleton contributes a key, and the overlap with the Latin
side's names is what counts (``names_coverage`` in ``pipeline.dedup.corroborate``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from pipeline.extract.textnorm import fold_digits, is_abbreviation
from pipeline.models import Anchor

# ----------------------------------------------------------------------------- numbers

_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:[,٬]\d{3})+|\d+)(?:[.٫](\d+))?(?![\w])")
_PERCENT = re.compile(r"\s?(?:%|٪|per ?cent\b|percent\b|بالمئة|بالمائة|في المئة|في المائة|درصد)")

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    "يناير": 1, "فبراير": 2, "مارس": 3, "أبريل": 4, "ابريل": 4, "إبريل": 4, "مايو": 5,
    "يونيو": 6, "يونيه": 6, "يوليو": 7, "يوليه": 7, "أغسطس": 8, "اغسطس": 8, "سبتمبر": 9,
    "أكتوبر": 10, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
    "كانون الثاني": 1, "شباط": 2, "آذار": 3, "اذار": 3, "نيسان": 4, "أيار": 5, "ايار": 5,
    "حزيران": 6, "تموز": 7, "آب": 8, "اب": 8, "أيلول": 9, "ايلول": 9, "تشرين الأول": 10,
    "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الأول": 12, "كانون الاول": 12,
}
_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_DATE_DM = re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b", re.I)
# The lookahead (a month's possible first letter) only spares trying every month name at
# every word: the matches are the same, found in a third of the time.
_MONTH_FIRST = "[" + "".join(sorted({re.escape(m[0]) for m in _MONTHS})) + "]"
_DATE_MD = re.compile(rf"\b(?={_MONTH_FIRST})({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d)", re.I)
_DATE_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DATE_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?!\d)")


def _date_value(month: int, day: int) -> str | None:
    if 1 <= month <= 12 and 1 <= day <= 31:
        return f"{month:02d}-{day:02d}"
    return None


def _dates(text: str) -> list[tuple[int, int, str]]:
    """(start, end, "MM-DD") spans; years are separate anchors so dates omit them."""
    found: list[tuple[int, int, str]] = []
    for m in _DATE_ISO.finditer(text):
        v = _date_value(int(m.group(2)), int(m.group(3)))
        if v:
            found.append((m.start(), m.end(), v))
    for m in _DATE_DMY.finditer(text):
        v = _date_value(int(m.group(2)), int(m.group(1)))
        if v:
            found.append((m.start(), m.end(), v))
    for m in _DATE_DM.finditer(text):
        v = _date_value(_MONTHS[m.group(2).lower()], int(m.group(1)))
        if v:
            found.append((m.start(), m.start() + len(m.group(1)), v))
    for m in _DATE_MD.finditer(text):
        v = _date_value(_MONTHS[m.group(1).lower()], int(m.group(2)))
        if v:
            found.append((m.start(), m.end(), v))
    return found


def _numbers(text: str, taken: list[tuple[int, int]]) -> list[Anchor]:
    out: list[Anchor] = []
    for m in _NUMBER.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        whole = re.sub(r"[,٬]", "", m.group(1))
        frac = m.group(2)
        rest = text[m.end() : m.end() + 14]
        pct = _PERCENT.match(rest)
        if not frac and not pct and len(whole) == 4 and 1900 <= int(whole) <= 2100:
            out.append(Anchor("year", whole, m.start()))
            continue
        if len(whole) < 2 and not frac and not pct:
            continue
        whole = whole.lstrip("0") or "0"
        value = f"{whole}.{frac.rstrip('0')}".rstrip(".") if frac else whole
        out.append(Anchor("number", value + ("%" if pct else ""), m.start()))
    return out


# ----------------------------------------------------------------------------- names

_CLASS_AR = {
    "ب": "b", "پ": "b", "ت": "t", "ط": "t", "ث": "t", "ج": "j", "غ": "j", "گ": "j",
    "ح": "h", "ه": "h", "ة": "h", "ۀ": "h", "خ": "k", "ك": "k", "ک": "k", "ق": "k",
    "د": "d", "ض": "d", "ذ": "d", "ر": "r", "ڕ": "r", "ز": "z", "ظ": "z", "ژ": "z",
    "س": "s", "ص": "s", "ش": "s", "چ": "s", "ف": "f", "ڤ": "f", "ل": "l", "ڵ": "l",
    "م": "m", "ن": "n", "و": "w", "ۆ": "w", "ي": "y", "ی": "y", "ى": "y", "ێ": "y",
    "ئ": "y", "ؤ": "w",
}
_LATIN_DIGRAPHS = [("sh", "s"), ("ch", "s"), ("th", "t"), ("dh", "d"), ("kh", "k"),
                   ("gh", "j"), ("ph", "f"), ("ck", "k"), ("ng", "n")]
_CLASS_LATIN = {
    "b": "b", "p": "b", "t": "t", "d": "d", "j": "j", "g": "j", "h": "h", "k": "k",
    "c": "k", "q": "k", "x": "k", "s": "s", "z": "z", "f": "f", "v": "f", "l": "l",
    "m": "m", "n": "n", "r": "r", "w": "w", "y": "y",
}
_LATIN_FOLD = str.maketrans("àáâäãåçèéêëìíîïñòóôöõùúûüýÿ", "aaaaaaceeeeiiiinooooouuuuyy")


def _collapse(classes: list[str]) -> str:
    """Drop medial w/y and a final h (ة, -ah), then collapse repeated classes."""
    kept = [c for i, c in enumerate(classes) if c not in "wy" or i == 0]
    if len(kept) > 2 and kept[-1] == "h":
        kept.pop()
    out: list[str] = []
    for c in kept:
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


@lru_cache(maxsize=1 << 16)
def skeleton(word: str) -> str:
    """Consonant-class skeleton of one Latin or Arabic-script word (see module doc);
    cached, since news vocabularies repeat."""
    w = word.casefold()
    if any("\u0600" <= ch <= "\u06ff" for ch in w):
        return _collapse([_CLASS_AR[ch] for ch in w if ch in _CLASS_AR])
    w = w.translate(_LATIN_FOLD)
    for dg, rep in _LATIN_DIGRAPHS:
        w = w.replace(dg, rep.upper())  # upper = already classed
    classes = [ch.lower() if ch.isupper() else _CLASS_LATIN.get(ch, "") for ch in w]
    return _collapse([c for c in classes if c])


_LATIN_STOP = set(
    """a an the this that these those he she it its we they i you his her their our my
    in on at to of for from by with as and or but if when while after before since
    during under over about into than then there here what which who whom whose why how
    where mr mrs ms dr prof sir madam monday tuesday wednesday thursday friday saturday
    sunday january february march april may june july august september october november
    december not no yes all some many most more one two three also said says according
    today yesterday tomorrow last next new however meanwhile""".split()
)
_ARABIC_STOP = set(
    """في من على الى إلى عن مع هذا هذه ذلك تلك التي الذي الذين كان كانت يكون تكون ان إن أن
    لا لم لن ما ماذا كما قد وقد لقد بين بعد قبل حتى عند عندما حيث كل بعض غير أو او ثم
    هو هي هم هن نحن انا أنا انت وهو وهي قال قالت وقال وقالت يقول تقول اليوم امس أمس ايضا
    أيضا خلال منذ ضد نحو حول لدى لكن ولكن اذا إذا هناك هنا الى وفي ومن وعلى""".split()
)
_ARABIC_ARTICLES = ("وال", "بال", "فال", "كال", "لل", "ال")
_LATIN_NAME = re.compile(r"[A-Z][\w'’-]*[\w]|[A-Z]")
_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff]+")
_SENTENCE_START = re.compile(r"(^|[.!?؟:\"“«\n]\s*)$")


def _key_ok(key: str, word: str) -> bool:
    """Three consonant classes, or two from a word of 4+ letters ("Iraq", "Haddad"):
    shorter keys collide by chance."""
    return len(key) >= 3 or (len(key) == 2 and len(word) >= 4)


def _latin_names(text: str) -> list[Anchor]:
    """Capitalised Latin words; a sentence-initial one counts only when the same word is
    also capitalised mid-sentence somewhere (so "Officials said ..." adds nothing)."""
    found: list[tuple[int, str, bool]] = []
    for m in _LATIN_NAME.finditer(text):
        word = m.group(0)
        if len(word) < 3 or (word.isupper() and len(word) > 5):
            continue  # initials, and SHOUTED headline words
        if word.casefold() in _LATIN_STOP:
            continue
        before = text[max(0, m.start() - 40) : m.start()]
        initial = bool(_SENTENCE_START.search(before[-3:])) and not (
            before.rstrip().endswith(".") and is_abbreviation(before.rstrip())
        )
        found.append((m.start(), word, initial))
    mid_sentence = {w for _, w, initial in found if not initial}
    out: list[Anchor] = []
    for pos, word, initial in found:
        if initial and word not in mid_sentence:
            continue
        key = skeleton(word)
        if _key_ok(key, word):
            out.append(Anchor("name", key, pos))
    return out


def _arabic_names(text: str) -> list[Anchor]:
    out: list[Anchor] = []
    for m in _ARABIC_WORD.finditer(text):
        word = m.group(0)
        if word in _ARABIC_STOP:
            continue
        for art in _ARABIC_ARTICLES:
            if word.startswith(art) and len(word) - len(art) >= 3:
                word = word[len(art) :]
                break
        key = skeleton(word)
        if _key_ok(key, word):
            out.append(Anchor("name", key, m.start()))
    return out


def extract_anchors(text: str, language: str) -> list[Anchor]:
    """All anchors of ``text`` in position order.  ``language`` is informational only:
    the script of each word decides how it is read, since Arabic pages quote Latin names."""
    del language  # script, not the declared language, decides
    folded = fold_digits(text)
    dates = _dates(folded)
    anchors = [Anchor("date", v, s) for s, _, v in dates]
    anchors += _numbers(folded, [(s, e) for s, e, _ in dates])
    anchors += _latin_names(text)
    anchors += _arabic_names(text)
    anchors.sort(key=lambda a: (a.position, a.kind, a.value))
    return anchors


def anchor_keys(anchors: Iterable[Anchor]) -> set[str]:
    """``kind:value`` keys for set overlap (positions ignored)."""
    return {f"{a.kind}:{a.value}" for a in anchors}
