"""What makes an article *changed* (a new revision), and a summary of what changed.

Why a normalised fingerprint and not ``content_hash``: publishers re-serve pages and
feeds with changes no reader would call a revision: whitespace and markup, a tracking
parameter on a link, a "last updated 14:05" stamp, a new ``lastBuildDate``.  Those must
not make a revision (issue 19).  The fingerprint is computed over the title and the body
after: the matching normalisation (case, Arabic letter variants, digit systems,
punctuation, whitespace: ``normalize_for_matching``), URLs cut to scheme, host and path
(no query, no fragment), and times of day and "updated ..." stamp lines removed.

A revision's summary (:func:`summarize`) is kept with the new row: which fields changed,
how many sentences were added and removed, the body similarity (``difflib`` ratio) and a
short unified diff of the changed sentences, plus a kind: ``correction`` (a correction or
clarification note appeared), ``retraction`` (a retraction notice appeared), else
``update``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping

from pipeline.extract.textnorm import normalize_for_matching

_URL = re.compile(r"https?://[^\s?#<>\"']+(?:\?[^\s#<>\"']*)?(?:#[^\s<>\"']*)?", re.IGNORECASE)
_STAMP_LINE = re.compile(r"^\s*(?:last\s+)?(?:updated|modified|آخر تحديث|تم التحديث)\b.*$",
                         re.IGNORECASE | re.MULTILINE)
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(?:am|pm|gmt|utc|[+-]\d{2}:?\d{2})?\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?؟])\s+|\n+")
_CORRECTION = re.compile(r"\b(?:correction|corrected|clarification|an earlier version of this)\b|تصحيح|توضيح",
                         re.IGNORECASE)
_RETRACTION = re.compile(r"\b(?:retract(?:ed|ion|s)?|withdrawn|has been withdrawn)\b|سحب|نعتذر عن نشر", re.IGNORECASE)
FIELDS = ("title", "summary", "body_text", "authors", "published_at", "language", "translator", "original_outlet")
EXCERPT_CHARS = 800


def _strip_urls(text: str) -> str:
    return _URL.sub(lambda m: m.group(0).split("?", 1)[0].split("#", 1)[0], text)


def fingerprint(title: str | None, body: str | None) -> str:
    """Normalised content fingerprint: equal for versions that differ only trivially."""
    parts = []
    for text in (title or "", body or ""):
        text = _STAMP_LINE.sub(" ", _strip_urls(text))
        text = _TIME.sub(" ", text)
        parts.append(normalize_for_matching(text))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def entry_hash(title: str, summary_html: str, content_html: str, updated: str | None) -> str:
    """The feed entry as a feed states it (text normalised like the fingerprint, plus its
    date): when it changes, the article may have changed and is looked at again."""
    text = "\x1f".join([fingerprint(title, f"{summary_html}\n{content_html}"), updated or ""])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def sentences(text: str | None) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text or "") if s.strip()]


def kind_of(old_body: str | None, new_body: str | None, new_title: str | None = None) -> str:
    """``retraction`` / ``correction`` when such a notice appears in the new version, else ``update``."""
    new = f"{new_title or ''}\n{new_body or ''}"
    if _RETRACTION.search(new) and not _RETRACTION.search(old_body or ""):
        return "retraction"
    if _CORRECTION.search(new) and not _CORRECTION.search(old_body or ""):
        return "correction"
    return "update"


def summarize(old: Mapping[str, object], new: Mapping[str, object]) -> dict:
    """What changed between two versions (mappings with the article fields)."""
    changed = [f for f in FIELDS if _norm(old.get(f)) != _norm(new.get(f))]
    a, b = sentences(str(old.get("body_text") or "")), sentences(str(new.get("body_text") or ""))
    sa, sb = set(a), set(b)
    diff = list(difflib.unified_diff(a, b, "previous", "current", n=0, lineterm=""))
    excerpt = "\n".join(line for line in diff[2:] if not line.startswith("@@"))[:EXCERPT_CHARS]
    ratio = difflib.SequenceMatcher(None, str(old.get("body_text") or ""), str(new.get("body_text") or ""),
                                    autojunk=False).quick_ratio() if a or b else 1.0
    return {
        "changed_fields": changed,
        "sentences_added": sum(1 for s in b if s not in sa),
        "sentences_removed": sum(1 for s in a if s not in sb),
        "similarity": round(float(ratio), 4),
        "diff_excerpt": excerpt,
        "kind": kind_of(str(old.get("body_text") or ""), str(new.get("body_text") or ""), str(new.get("title") or "")),
    }


def _norm(value: object) -> object:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def to_json(summary: dict) -> str:
    return json.dumps(summary, ensure_ascii=False, sort_keys=True)
