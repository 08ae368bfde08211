"""Hostile or broken pages: a counted reject with a reason, never a crash, bounded cost."""

from __future__ import annotations

import os
import time
import tracemalloc
from datetime import UTC, datetime

import pytest

from pipeline.config import Settings
from pipeline.extract.decode import decode_html, looks_binary
from pipeline.extract.html import extract_page
from pipeline.models import Entry, ExtractError
from pipeline.normalize import build_article

URL = "https://bad.example/a"
ARABIC = "ارتفعت أسعار الذهب في الأسواق المحلية اليوم بعد قرار البنك المركزي الجديد. "


def _article_page(body: bytes, charset: str = "utf-8") -> bytes:
    return (f"<html><head><meta charset='{charset}'><title>t</title></head><body><article><p>".encode()
            + body + b"</p></article></body></html>")


def _reason(data: bytes | str) -> str:
    with pytest.raises(ExtractError) as err:
        extract_page(data, URL)
    return err.value.reason


@pytest.mark.parametrize("data, reason", [
    (b"", "empty_page"),
    (b"\n\t  ", "empty_page"),
    (b"<html><body></body></html>", "empty_page"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "binary_content"),
    (b"%PDF-1.7\n" + bytes(range(256)) * 40, "binary_content"),
    (bytes((i * 7919) % 256 for i in range(100_000)), "binary_content"),
    ("\ufffd" * 500, "undecodable"),
])
def test_bad_pages_are_rejected_with_a_reason(data, reason):
    assert _reason(data) == reason


def test_ten_megabytes_of_nested_divs_is_a_bounded_reject():
    data = b"<html><body>" + b"<div>" * 1_000_000 + b"deep text" + b"</div>" * 1_000_000 + b"</body></html>"
    assert len(data) > 10_000_000
    tracemalloc.start()
    t0 = time.perf_counter()
    reason = _reason(data)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert reason == "too_deep"
    assert elapsed < 10 and peak < 300_000_000


def test_oversized_page_is_refused_before_parsing():
    assert _reason(b"<p>x</p>" * 2_000_000) == "too_large"


def test_invalid_utf8_bytes_become_replacement_characters():
    page = extract_page(_article_page(ARABIC.encode() * 8 + b"\xff\xfe\xc3("), URL)
    assert page.text.startswith("ارتفعت أسعار الذهب") and "\ufffd" in page.text


def test_mislabelled_charset_is_detected_from_the_bytes():
    """Declared UTF-8, written in windows-1256: decoded as Arabic, not as mojibake."""
    page = extract_page(_article_page(ARABIC.encode("cp1256") * 8, charset="utf-8"), URL)
    assert page.text.startswith("ارتفعت أسعار الذهب") and "\ufffd" not in page.text
    # ... and a UTF-8 page declared as windows-1256 stays UTF-8
    page = extract_page(_article_page(ARABIC.encode() * 8, charset="windows-1256"), URL)
    assert page.text.startswith("ارتفعت أسعار الذهب")


def test_decode_helpers():
    assert looks_binary(b"\x1f\x8b\x08\x00") and not looks_binary("<p>نص</p>".encode())
    assert not looks_binary("\ufeff<p>x</p>".encode("utf-16-le"))  # BOM'd UTF-16 is text
    assert decode_html("<p>é</p>".encode("utf-16")) == "<p>é</p>"


def test_bad_page_through_normalize_is_a_reject_not_a_crash():
    """The ingest stage turns ExtractError into a counted Reject (reason preserved)."""
    entry = Entry(feed_url="https://bad.example/rss", guid="g", link=URL, title="t")
    with pytest.raises(ExtractError) as err:
        build_article(entry, None, datetime(2025, 8, 1, tzinfo=UTC), Settings())
    assert err.value.reason == "no_text"


def test_random_bytes_never_crash():
    for seed in range(20):
        data = os.urandom(2000 + seed * 500)
        try:
            extract_page(data, URL)
        except ExtractError:
            pass
