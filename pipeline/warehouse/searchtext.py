"""Fast text folding for search documents and queries (``pipeline.search.analysis`` folds
every word through it before its per-language analysis).

``pipeline.extract.textnorm.normalize_for_matching`` walks text character by character
(about 1 ms per article), which dominated warehouse loads (200,000 articles: minutes).
This is the same folding with ``str.translate`` and a per-character table filled on first
sight; documents and queries both go through it, so they always fold alike.  A test checks
it agrees with ``normalize_for_matching`` on the sample corpus.
"""

from __future__ import annotations

import re

from pipeline.extract import textnorm as tn

_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_SEPARATOR_HINT = re.compile(r"\d[,٬'’\u066c\u066b]\d")  # only then fold_number_separators
_MARK = "\ue000"  # private use: stands for a decimal point while the table runs


class _KeepTable(dict):
    """Code point -> itself when it is kept (letters, numbers, marks, spaces), else a space."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        value = ch if tn._keep_char(ch) else " "
        self[cp] = value
        return value


_KEEP = _KeepTable({ord(_MARK): "."})
_FAST = all(hasattr(tn, n) for n in ("_INVISIBLE", "_FOLD", "_keep_char", "_WS", "fold_number_separators"))
# Invisible controls are untouched by casefold, so one table drops them and folds letters.
_FOLDS = {**tn._INVISIBLE, **tn._FOLD} if _FAST else {}
# Regexes find the few characters that need work (a scan is much cheaper than translating
# every character): those to fold, and those that are neither \w (letters, numbers) nor
# whitespace (punctuation, symbols, marks, "_": the keep table decides).
_FOLD_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FOLDS)) + "]") if _FAST else None
_OTHER_RE = re.compile(r"[^\w\s]|_")


def _fold_one(m: re.Match) -> str:
    return _FOLDS[ord(m.group())] or ""


def _keep_one(m: re.Match) -> str:
    return _KEEP[ord(m.group())]


def fold(text: str | None) -> str:
    """``normalize_for_matching``, fast: NFKC, no invisibles, casefold, Arabic/digit folds."""
    if not text:
        return ""
    if not _FAST:  # textnorm changed shape: stay correct, if slower
        return tn.normalize_for_matching(text)
    import unicodedata

    text = _FOLD_RE.sub(_fold_one, unicodedata.normalize("NFKC", text).casefold()).replace(_MARK, " ")
    if _SEPARATOR_HINT.search(text):
        text = tn.fold_number_separators(text)
    text = _OTHER_RE.sub(_keep_one, _DECIMAL.sub(_MARK, text))
    return tn._WS.sub(" ", text).strip()
