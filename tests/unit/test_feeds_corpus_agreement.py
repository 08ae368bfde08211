"""Agreement with the answer keys that sit beside corpus files (CATALOG.tsv ``ground_truth``).

Keys: feed-rs ``*.serde.json`` (feed-rs's parse) and rss-parser ``test/output/*.json``
(rss-parser's parse).  For every entry matched by position we compare title, link and
date; a field is compared only when the key states it.  Titles are compared after
HTML-to-text and whitespace folding, links exactly (absolute), dates to the second in UTC.
Parsers legitimately differ in corner cases (e.g. which of several links is "the" link),
so the test asserts a high agreement rate and prints it, with the disagreements.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

from pipeline.feeds.parse import parse_feed
from pipeline.feeds.sanitize import html_to_text
from pipeline.models import FeedParseError
from tests.conftest import CORPORA, need

FEEDS = CORPORA / "feeds"


def _norm(text: str | None) -> str:
    return " ".join(html_to_text(text or "").split())


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


def _key_entries(path: str) -> list[dict]:
    raw = (FEEDS / path).read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:  # rss-parser's encoding.json key is itself stored as Latin-1
        data = json.loads(raw.decode("latin-1"))
    out = []
    if path.endswith(".serde.json"):
        for e in data.get("entries") or []:
            links = [x["href"] for x in e.get("links") or [] if x.get("rel") in (None, "alternate")]
            out.append({"title": (e.get("title") or {}).get("content"), "link": links[0] if links else None,
                        "date": e.get("published") or e.get("updated")})
    else:
        for e in (data.get("feed") or {}).get("items") or []:
            out.append({"title": e.get("title"), "link": e.get("link"), "date": e.get("isoDate")})
    return out


def test_titles_links_and_dates_agree_with_answer_keys():
    need((FEEDS / "CATALOG.tsv").is_file(), f"feed corpus not present at {FEEDS}")
    with open(FEEDS / "CATALOG.tsv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["ground_truth"].endswith(".json")]
    assert len(rows) >= 60
    compared = agreed = files = 0
    per_field = {f: [0, 0] for f in ("title", "link", "date")}
    misses: list[str] = []
    for row in rows:
        key = _key_entries(row["ground_truth"])
        try:
            feed = parse_feed((FEEDS / row["path"]).read_bytes(), f"https://corpus.example/{row['path']}")
            got = feed.entries
        except FeedParseError:
            got = []
        files += 1
        for i, want in enumerate(key):
            mine = got[i] if i < len(got) else None
            checks = {
                "title": (_norm(want["title"]), _norm(mine.title) if mine else None) if want["title"] else None,
                "link": (want["link"].strip(), mine.link if mine else None) if want["link"] else None,
                "date": (_date(want["date"]), mine.published if mine else None) if _date(want["date"]) else None,
            }
            for name, pair in checks.items():
                if pair is None:
                    continue
                ok = pair[0] == pair[1]
                compared += 1
                agreed += ok
                per_field[name][0] += ok
                per_field[name][1] += 1
                if not ok:
                    misses.append(f"{row['path']}#{i} {name}: key={pair[0]!r} ours={pair[1]!r}"[:240])
    rate = agreed / compared
    print(f"\nanswer-key agreement: {agreed}/{compared} = {rate:.1%} over {files} files; "
          + ", ".join(f"{k} {a}/{n} = {a / n:.1%}" for k, (a, n) in per_field.items() if n))
    print("disagreements (first 25):", *misses[:25], sep="\n  ")
    assert rate >= 0.9
