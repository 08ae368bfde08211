"""parse_feed over every file of the shared feed corpus listed in CATALOG.tsv.

Contract checked: each file either parses or raises FeedParseError (never anything
else), and most well-formed rss/atom/json files yield at least one entry.
"""

from __future__ import annotations

import csv
import time

import pytest

from pipeline.feeds.parse import parse_feed
from pipeline.models import FeedParseError
from tests.conftest import SHARED, need

CORPORA = SHARED / "corpora"
FEEDS = CORPORA / "feeds"
BAD_CATEGORIES = ("illformed", "bozo", "invalid")


def _catalog() -> list[dict[str, str]]:
    need((FEEDS / "CATALOG.tsv").is_file(), f"feed corpus not present at {FEEDS}")
    with open(FEEDS / "CATALOG.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _expected(row: dict[str, str]) -> bool:
    """Format rss/atom/json and not in an ill-formed/bozo category."""
    fmt, cat = row["format"].lower(), row["category"].lower()
    well_formed_feed = fmt.startswith(("rss", "atom", "json"))
    return (
        well_formed_feed and not any(b in cat for b in BAD_CATEGORIES) and "bozo" not in row["path"]
    )


def _has_items(body: bytes) -> bool:
    """Many synthetic encoding fixtures are empty feeds on purpose: only count files
    that contain an item at all (UTF-16/32 files are checked after a lenient decode)."""
    low = body.lower()
    if b"\x00" in body[:200]:
        for enc in ("utf-16", "utf-32"):
            try:
                low = body.decode(enc).lower().encode()
                break
            except UnicodeDecodeError:
                continue
    return any(m in low for m in (b"<item", b"<entry", b":item", b":entry", b'"items"'))


@pytest.mark.slow
def test_every_corpus_file_parses_or_raises_feed_parse_error():
    rows = _catalog()
    t0 = time.monotonic()
    parsed = rejected = 0
    reasons: dict[str, int] = {}
    expected = with_entries = expected_items = items_ok = 0
    empty: list[str] = []
    for row in rows:
        path = FEEDS / row["path"]
        body = path.read_bytes()
        try:
            feed = parse_feed(body, f"https://corpus.example/{row['path']}")
        except FeedParseError as exc:
            rejected += 1
            reasons[exc.reason] = reasons.get(exc.reason, 0) + 1
            feed = None
        else:
            parsed += 1
        if _expected(row):
            got = feed is not None and bool(feed.entries)
            expected += 1
            with_entries += got
            if _has_items(body):
                expected_items += 1
                items_ok += got
                if not got:
                    empty.append(row["path"])
    elapsed = time.monotonic() - t0
    share = items_ok / expected_items if expected_items else 0.0
    print(
        f"\ncorpus: {len(rows)} files, parsed {parsed}, rejected {rejected} {reasons}; "
        f"rss/atom/json not ill-formed: {with_entries}/{expected} give >=1 entry; "
        f"of those containing items: {items_ok}/{expected_items} = {share:.1%}; {elapsed:.1f}s"
    )
    if empty:
        print("contain items but gave none:", *empty, sep="\n  ")
    assert len(rows) > 200
    assert share >= 0.9
    # ~3-4 s on an idle dev machine (feedparser is 80% of it); the bound only catches
    # pathological regressions without flaking on a loaded CI box
    assert elapsed < 60
