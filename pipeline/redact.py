"""Keep secrets out of every output: log lines, errors, reprs, API bodies, task logs.

Two mechanisms, both needed:

* pattern redaction: the password of any ``scheme://user:password@host`` URL and
  ``password=...`` / ``secret=...`` pairs are replaced wherever they appear, so an error
  message built by a library (psycopg quotes the conninfo) is safe too;
* known-secret redaction: values registered with :func:`register` (the AWS secret key,
  API keys, the warehouse password: ``Settings.load`` registers them) are replaced
  verbatim, wherever they appear.

:func:`install` wraps the logging record factory, so every record of every logger in the
process (ours, psycopg's, botocore's, Airflow's task logger) is redacted once its message
is formatted, before any handler sees it.  Exceptions logged with a traceback are redacted
through the same record.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/?#@\s'\"]*:)(?P<pw>[^@/\s'\"]+)(?=@)")
_PAIRS = re.compile(r"(?i)\b(?P<key>password|passwd|pwd|secret|secret_access_key|api_key|token)"
                    r"(?P<sep>\s*[=:]\s*)(?P<q>['\"]?)(?P<val>[^\s'\",;&]+)")
_PAIR_WORDS = ("pass", "pwd", "secret", "api_key", "token")  # every key _PAIRS knows contains one
_SECRETS: set[str] = set()
_ORDERED: tuple[str, ...] = ()  # _SECRETS, longest first (a secret inside another is masked after it)
_GUARD = threading.Lock()
_MIN_SECRET = 4  # shorter values ("a", "no") would mask ordinary words


def register(*values: str | None) -> None:
    """Remember secret values so they are masked wherever they appear from now on."""
    global _ORDERED
    with _GUARD:
        for v in values:
            if v and len(v) >= _MIN_SECRET:
                _SECRETS.add(v)
        _ORDERED = tuple(sorted(_SECRETS, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with URL passwords, ``password=...`` pairs and registered secrets masked."""
    if not text:
        return text
    # each pattern only where its fixed part occurs: a plain substring test is a tenth of a
    # failed regex scan, and the API writes an access line per request
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    # (ASCII only: ignoring case, the pattern's s, k and i also match ſ, K, ı and İ)
    if not text.isascii() or any(word in text.lower() for word in _PAIR_WORDS):
        text = _PAIRS.sub(lambda m: f"{m.group('key')}{m.group('sep')}{m.group('q')}{MASK}", text)
    for s in _ORDERED:
        if s in text:
            text = text.replace(s, MASK)
    return text


def redact_url(url: str | None) -> str:
    """A URL safe to print: its password masked (``postgresql://user:***@host/db``)."""
    return redact(url or "")


def url_password(url: str | None) -> str | None:
    """The password of ``scheme://user:password@host``, or None."""
    m = _URL_PASSWORD.search(url or "")
    return m.group("pw") if m else None


_installed = False


def install() -> None:
    """Redact every log record of the process from now on (idempotent)."""
    global _installed
    with _GUARD:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        return _RedactedRecord.wrap(record)

    logging.setLogRecordFactory(factory)


class _RedactedRecord(logging.LogRecord):
    """A record whose message and formatted traceback are redacted when read."""

    @classmethod
    def wrap(cls, record: logging.LogRecord) -> logging.LogRecord:
        record.__class__ = cls
        return record

    def getMessage(self) -> str:  # noqa: N802 - logging's name
        return redact(super().getMessage())

    @property
    def exc_text(self) -> str | None:  # formatters cache the traceback text here
        value = self.__dict__.get("exc_text")
        return redact(value) if value else value

    @exc_text.setter
    def exc_text(self, value: str | None) -> None:
        self.__dict__["exc_text"] = value
