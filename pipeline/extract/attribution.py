"""Stated attribution: who translated an article and which outlet it came from.

Republishers say so in short standalone lines at the top or bottom of the body
("ترجمة/ ...", "عن ذي ناشنال", "This article originally appeared in ...") or in a wire
dateline ("WASHINGTON (Reuters) -").  Only those positions count: the same outlet named
inside a sentence ("قال لموقع ذي ناشنال ...") is reporting, not attribution, and taking it
as a source would link unrelated articles.  Found lines leave the body (so they do not
pollute near-duplicate signatures) and are kept verbatim in ``Attribution.lines``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

import yaml

from pipeline.models import Attribution

EDGE_LINES = 3  # how many lines at each end of the body may hold attribution
MAX_LINE_CHARS = 140  # longer lines are sentences, not attribution (URLs not counted)

_URL = re.compile(r"https?://[^\s<>\"'»«)]+", re.I)
_SEP = r"\s*[/:：\-–—|]\s*"
_NAME = r"(?P<name>[^\n.!?؟،,;]{2,60})"

_TRANSLATOR = [
    re.compile(rf"^(?:ترجمة|ترجمه)(?:\s+و\s*(?:تحرير|إعداد|اعداد|تصرف))?{_SEP}{_NAME}$"),
    re.compile(rf"^(?:translated(?:\s+from\s+\w+)?\s+by|translation(?:\s+by)?\s*:)\s*{_NAME}$", re.I),
]
_SOURCE = [
    re.compile(r"^(?:نقل[اًا]{0,2}\s+عن|المصدر\s*[:：/\-–—]?|عن)\s+(?P<outlet>.+)$"),
    re.compile(r"^sources?\s*[:：]\s*(?P<outlet>.+)$", re.I),
    re.compile(
        r"^this\s+(?:article|story|piece|report|post)\s+(?:was\s+)?(?:originally|first)\s+"
        r"(?:appeared|published|ran)\s+(?:in|on|at|by)\s+(?P<outlet>.+)$",
        re.I,
    ),
    re.compile(r"^(?:originally|first)\s+published\s+(?:by|in|on|at)\s+(?P<outlet>.+)$", re.I),
    re.compile(r"^read\s+the\s+(?:full|original)\s+(?:story|article)\s+(?:at|on)\s+(?P<outlet>.+)$", re.I),

]
# "Reporting by Meridian Wire." counts only when it names a known outlet, not a person.
_CREDIT = re.compile(r"^(?:additional\s+)?reporting\s+by\s+(?P<outlet>.+?)\.?$", re.I)
# "WASHINGTON (Reuters) - ", "(Meridian Wire) — ", "بغداد (أ ف ب) - "
_DATELINE = re.compile(
    r"^(?P<prefix>(?:[^\s()][^()\n]{0,40}?\s*)?\((?P<outlet>[^()\n]{1,40})\)\s*[-–—:]\s*)(?=\S)"
)
# Where the outlet part of a line stops: a URL, a colon, a date, "and is republished ...".
_OUTLET_END = re.compile(
    r"(?:https?://|[:：;(|«»\"“”]|\s[-–—]\s|[.,،](?:\s|$)|\s+(?:on|and|with|under|في|بتاريخ|بتصرف)\s)",
    re.I,
)

_AR_DIACRITICS = re.compile(r"[\u064B-\u0652\u0670\u0640]")
_AR_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"})
_STOP_WORDS = frozenset(
    "the ذي ذا صحيفه جريده موقع وكاله الاخباري الاخباريه الالكتروني "
    "newspaper website agency".split()
)

# Words that may follow a known outlet name without making it another organisation.
_GENERIC_TAIL = frozenset(
    "service wire newswire online digital english arabic international staff correspondent "
    "reporters com net org عربي نت اونلاين بالعربي بالعربيه".split()
)


def normalize_outlet(name: str) -> str:
    """Fold spelling variants of an outlet name to one matching key."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _AR_DIACRITICS.sub("", text).translate(_AR_FOLD)
    text = re.sub(r"[\"'’‘“”«»().,،:;!?؟]", " ", text)
    words = []
    for word in text.split():
        if word.startswith("ال") and len(word) > 3:
            word = word[2:]
        if word in _STOP_WORDS or "ال" + word in _STOP_WORDS or (word == "news" and words):
            continue  # "BBC News" == "BBC", but a name that is only "News" stays
        words.append(word)
    return " ".join(words)


@lru_cache(maxsize=1)
def _outlet_index() -> dict[str, str]:
    """normalized name -> domain, from ``pipeline/data/outlets.yaml`` (loaded once)."""
    raw = resources.files("pipeline").joinpath("data/outlets.yaml").read_text(encoding="utf-8")
    table = yaml.safe_load(raw) or {}
    index: dict[str, str] = {}
    for domain, info in table.items():
        names = list((info or {}).get("names", []))
        for name in [*names, domain]:
            key = normalize_outlet(str(name))
            if key:
                index.setdefault(key, str(domain).lower())
    return index


def resolve_outlet(name: str) -> str | None:
    """Outlet name in any known spelling (or its domain) -> domain, else None.

    An exact normalized match wins; otherwise the longest known name that the given name
    starts with when only generic words follow ("Reuters news service" -> reuters.com,
    but "National Bank" is not The National).
    """
    key = normalize_outlet(name or "")
    if not key:
        return None
    index = _outlet_index()
    if key in index:
        return index[key]
    best = None
    for known, domain in index.items():
        if not key.startswith(known + " ") or (best and len(known) <= len(best[0])):
            continue
        if all(w in _GENERIC_TAIL for w in key[len(known) + 1 :].split()):
            best = (known, domain)
    return best[1] if best else None


def _clean_outlet(raw: str) -> str:
    m = _OUTLET_END.search(raw)
    outlet = raw[: m.start()] if m else raw
    return outlet.strip(" \t-–—:.,،\"'«»“”")


def _short(line: str) -> bool:
    return 0 < len(_URL.sub("", line).strip()) <= MAX_LINE_CHARS


def visible_text(line: str) -> str:
    """Drop icon-font glyphs (private use), bidi marks and controls; collapse spaces.

    Shared by page extraction and attribution: both read what a reader sees."""
    if line.isprintable():  # C-speed: no Cc/Cf/Co (nor any separator but the space) present
        return " ".join(line.split())
    kept = "".join(
        ch
        for ch in line
        if ch in "\u200c\u200d" or unicodedata.category(ch) not in ("Co", "Cf", "Cc")
    )  # ZWNJ/ZWJ stay: Persian spelling depends on them
    return " ".join(kept.split())


def _match_line(line: str, att: Attribution) -> bool:
    """Record ``line`` in ``att`` when it is an attribution line; True if it was."""
    text = visible_text(line)
    if not _short(text):
        return False
    for rx in _TRANSLATOR:
        if m := rx.match(text):
            name = m.group("name").strip()
            if len(name.split()) <= 6:
                att.translator = att.translator or name
                _note(att, line, text)
                return True
    for rx in (*_SOURCE, _CREDIT):
        if m := rx.match(text):
            outlet = _clean_outlet(m.group("outlet"))
            domain = resolve_outlet(outlet) if outlet else None
            # A bare "عن X" must look like a name: a known outlet, or a very short line.
            if not outlet or (text.startswith("عن") and not domain and len(text.split()) > 5):
                return False
            if rx is _CREDIT and not domain:
                return False
            if att.original_outlet is None:
                att.original_outlet, att.original_domain = outlet, domain
            _note(att, line, text)
            return True
    return False


def _note(att: Attribution, line: str, text: str) -> None:
    att.lines.append(text)
    if att.original_url is None and (m := _URL.search(text)):
        att.original_url = m.group(0).rstrip(".,;:!?،")


def _dateline(first: str, att: Attribution) -> str | None:
    """Strip a wire dateline naming a known outlet; the rest of the sentence stays."""
    first = visible_text(first)
    m = _DATELINE.match(first)
    if not m:
        return None
    outlet = m.group("outlet").strip()
    domain = resolve_outlet(outlet)
    if domain is None:
        return None
    if att.original_outlet is None:
        att.original_outlet, att.original_domain = outlet, domain
    att.lines.append(m.group("prefix").strip())
    return first[m.end() :]


def extract_attribution(text: str, language: str) -> tuple[str, Attribution]:
    """(body without attribution lines, Attribution) for an article body.

    ``language`` is accepted for callers' symmetry; the patterns of both Arabic and English
    are always tried because republishers mix them (an Arabic page citing "Reuters").
    """
    del language
    att = Attribution()
    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    # Address lines inside paragraphs, since pages differ in whether <br> or <p> split them.
    units: list[tuple[int, int]] = [
        (pi, li) for pi, p in enumerate(paragraphs) for li, _ in enumerate(p.split("\n"))
    ]
    lines = [p.split("\n") for p in paragraphs]
    drop: set[tuple[int, int]] = set()
    nonempty = [u for u in units if lines[u[0]][u[1]].strip()]
    edge = nonempty[:EDGE_LINES] + [u for u in nonempty[-EDGE_LINES:] if u not in nonempty[:EDGE_LINES]]
    for pi, li in edge:
        if _match_line(lines[pi][li], att):
            drop.add((pi, li))
    # A dateline opens the first line that is not itself attribution.
    for pi, li in nonempty[:EDGE_LINES + 1]:
        if (pi, li) in drop:
            continue
        rest = _dateline(lines[pi][li], att)
        if rest is not None:
            lines[pi][li] = rest
        break
    body_paras = []
    for pi, para_lines in enumerate(lines):
        kept = [ln for li, ln in enumerate(para_lines) if (pi, li) not in drop and ln.strip()]
        if kept:
            body_paras.append("\n".join(kept))
    return "\n\n".join(body_paras), att


__all__ = ["extract_attribution", "normalize_outlet", "resolve_outlet"]
