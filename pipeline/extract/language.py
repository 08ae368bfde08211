"""Language of an article: lingua on the text, restricted to the configured languages.

lingua with every language preloaded costs about 1.25 GB; restricted to the handful we
ingest it costs about 150 MB, so one detector is built lazily per distinct ``allowed`` set
and cached.  Short or ambiguous texts (a title, a teaser) are where lingua is weakest and
where the page's ``<html lang>`` or the feed's declared language is most useful, so those
hints take over there.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import islice

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

MIN_LETTERS = 20  # fewer letters than this: lingua is guessing, prefer a hint
MIN_CONFIDENCE = 0.50  # below this the top language is not clearly ahead
HINT_CONFIDENCE = 0.50  # what we claim when only a declaration backs the answer
MAX_CHARS = 3000  # the first few paragraphs decide; long bodies add time, not accuracy

_detectors: dict[frozenset[str], LanguageDetector] = {}
_lock = threading.Lock()


def normalize_code(code: str | None) -> str | None:
    """``"en-US"``/``"AR_eg"``/``" fr "`` -> ``"en"``/``"ar"``/``"fr"``; junk -> None."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    if 2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha():
        return primary
    return None


def _lingua_language(code: str) -> Language | None:
    iso = getattr(IsoCode639_1, code.upper(), None)
    if iso is None:
        return None
    try:
        return Language.from_iso_code_639_1(iso)
    except ValueError:
        return None


def _detector(codes: frozenset[str]) -> LanguageDetector:
    with _lock:
        det = _detectors.get(codes)
        if det is None:
            langs = [lang for c in sorted(codes) if (lang := _lingua_language(c))]
            det = LanguageDetectorBuilder.from_languages(*langs).build()
            _detectors[codes] = det
        return det


def _first_hint(hints: Sequence[str | None], allowed: set[str]) -> str | None:
    for hint in hints:
        code = normalize_code(hint)
        if code and (not allowed or code in allowed):
            return code
    return None


def detect_language(
    text: str, allowed: Sequence[str], hints: Sequence[str | None] = ()
) -> tuple[str, float]:
    """(ISO 639-1 code, confidence 0..1) of ``text``, restricted to ``allowed``.

    Falls back to the first usable hint (a declared language within ``allowed``) when the
    text is too short or lingua's confidence is low; ``("und", 0.0)`` when nothing is known.
    """
    allowed_codes = {c for a in allowed if (c := normalize_code(a))}
    detectable = frozenset(c for c in allowed_codes if _lingua_language(c) is not None)
    hint = _first_hint(hints, allowed_codes)
    sample = (text or "")[:MAX_CHARS]
    # only "none" and "at least MIN_LETTERS" matter: stop counting there (counting a
    # 3,000-char sample to its end cost ~0.5 ms a page)
    letters = sum(1 for _ in islice((ch for ch in sample if ch.isalpha()), MIN_LETTERS))

    if letters == 0:
        return (hint, HINT_CONFIDENCE) if hint else ("und", 0.0)
    if len(detectable) == 1:
        # Nothing to choose between; the only configured language is the answer.
        return next(iter(detectable)), 1.0 if letters >= MIN_LETTERS else HINT_CONFIDENCE
    if len(detectable) < 1:
        return (hint, HINT_CONFIDENCE) if hint else ("und", 0.0)

    values = _detector(detectable).compute_language_confidence_values(sample)
    if not values or values[0].value <= 0.0:
        return (hint, HINT_CONFIDENCE) if hint else ("und", 0.0)
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    confidence = round(float(best.value), 4)
    if letters >= MIN_LETTERS and confidence >= MIN_CONFIDENCE:
        return code, confidence
    if hint:
        hinted = next(
            (v.value for v in values if v.language.iso_code_639_1.name.lower() == hint), 0.0
        )
        return hint, round(max(HINT_CONFIDENCE, float(hinted)), 4)
    return code, confidence


__all__ = ["detect_language", "normalize_code"]
