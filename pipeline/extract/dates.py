"""Publication dates: parse what feeds and pages write, and decide which one to trust.

Feeds and pages write dates in ISO 8601, RFC 822 and a handful of meta-tag dialects, often
with wrong or missing time zones.  Everything leaves here timezone-aware UTC; a naive value
is taken as UTC (the least surprising guess, and what most CMSes mean).  ``choose_published``
prefers the feed, then the page, then the fetch time, skipping dates that cannot be true
(in the future beyond a tolerance, or before 1990) but keeping the reason as a flag.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)

# Named zones that RFC 822 parsers do not all know.
_TZ_NAMES = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
    "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "BST": 1, "IST": 5.5, "AST": 3, "MSK": 3, "JST": 9, "KST": 9,
}

_ISO = re.compile(
    r"^(?P<y>\d{4})-?(?P<mo>\d{2})-?(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{1,2}):?(?P<mi>\d{2})(?::?(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<tz>Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)
_SLASHED = re.compile(
    r"^(?P<y>\d{4})[/.](?P<mo>\d{1,2})[/.](?P<d>\d{1,2})"
    r"(?:[ T](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?$"
)
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}
# "19 August 2025 12:09", "August 19, 2025 12:09 PM"
_DMY = re.compile(
    r"^(?:[A-Za-z]+,?\s+)?(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]+)\.?,?\s+(?P<y>\d{4})"
    r"(?:[,\s]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?"
    r"\s*(?P<tz>[A-Za-z]{1,4}|[+-]\d{2}:?\d{2})?$"
)
_MDY = re.compile(
    r"^(?:[A-Za-z]+,?\s+)?(?P<mon>[A-Za-z]+)\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})"
    r"(?:[,\s]+(?:at\s+)?(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?"
    r"\s*(?P<tz>[A-Za-z]{1,4}|[+-]\d{2}:?\d{2})?$"
)


def _tz_from(token: str | None) -> timezone:
    if not token:
        return UTC
    token = token.strip()
    if token.upper() in _TZ_NAMES:
        return timezone(timedelta(hours=_TZ_NAMES[token.upper()]))
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", token)
    if not m:
        raise ValueError(f"unknown zone {token!r}")
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if minutes > 18 * 60:
        raise ValueError("offset out of range")
    return timezone(timedelta(minutes=-minutes if m.group(1) == "-" else minutes))


def _build(g: dict[str, str | None], month: int | None = None) -> datetime:
    hour = int(g.get("h") or 0)
    ampm = (g.get("ampm") or "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    frac = (g.get("f") or "0")[:6].ljust(6, "0")
    dt = datetime(
        int(g["y"] or 0),
        month if month is not None else int(g["mo"] or 0),
        int(g["d"] or 0),
        hour,
        int(g.get("mi") or 0),
        min(int(g.get("s") or 0), 59),  # leap second 60 -> 59
        int(frac),
        tzinfo=_tz_from(g.get("tz")),
    )
    return dt.astimezone(UTC)


def _aware_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_date(value: str | None) -> datetime | None:
    """ISO 8601, RFC 822/1123, epoch seconds and common meta formats -> aware UTC, else None.

    Never raises: dates come from untrusted documents and a bad one is just absent.
    """
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text or len(text) > 64:
        return None
    try:
        if m := _ISO.match(text):
            return _build(m.groupdict())
        if m := _SLASHED.match(text):
            return _build(m.groupdict())
        if _EPOCH.match(text):
            seconds = int(text[:10])
            return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError):
        return None
    try:
        return _aware_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    for pattern in (_DMY, _MDY):
        m = pattern.match(text)
        if not m:
            continue
        month = _MONTHS.get(m.group("mon").lower().rstrip("."))
        if month is None:
            continue
        try:
            return _build(m.groupdict(), month=month)
        except (ValueError, OverflowError):
            return None
    try:  # last resort: Python's own ISO reader (handles e.g. "2025-08-19T12:09:00.123+03:00")
        return _aware_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def date_flag(value: datetime, fetched_at: datetime, future_tolerance_hours: float) -> str | None:
    """Why ``value`` cannot be a real publication date, or None when it is plausible."""
    value = _aware_utc(value)
    if value > _aware_utc(fetched_at) + timedelta(hours=future_tolerance_hours):
        return "future"
    if value < _EARLIEST:
        return "too_old"
    return None


def choose_published(
    feed: datetime | None,
    page: datetime | None,
    fetched_at: datetime,
    future_tolerance_hours: float,
) -> tuple[datetime, str, str | None]:
    """(published_at UTC, source, flag): feed, then page, then fetch time.

    A flagged date is skipped in favour of the next source, and the first flag met is kept
    so analysts can see that the feed or page lied.
    """
    first_flag: str | None = None
    for source, value in (("feed", feed), ("page", page)):
        if value is None:
            continue
        flag = date_flag(value, fetched_at, future_tolerance_hours)
        if flag is None:
            return _aware_utc(value), source, first_flag
        first_flag = first_flag or flag
    return _aware_utc(fetched_at), "fetched", first_flag


__all__ = ["choose_published", "date_flag", "parse_date"]
