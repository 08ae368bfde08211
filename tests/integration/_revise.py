"""Edits of the sample corpus for the revision and takedown tests (issue 19).

Every sentence added here was written for these tests: correction notes, a rewritten
lead, a retraction notice and a planted article about a fictional town.  Nothing is
copied from a real article.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from tests.conftest import EXAMPLES

FEED = "gulfledger.example/rss.xml"

CORRECTION = ("Correction: an earlier version of this article gave the wrong month for the ministry's "
              "preliminary figures; they were published in late September, not in August.")
NEW_LEAD = ("Health officials in Jeddah widened their mosquito control campaign to eleven more districts on "
            "Tuesday after a second week of rising fever cases in the city's southern neighbourhoods.")
RETRACTION = ("Retraction: The Gulf Ledger has withdrawn this report because the figures it relied on could "
              "not be confirmed with the company. We regret the error.")
STAMP = "Updated 14:05 GMT"

# A planted article for the takedown tests: a fictional town and distinctive words that
# appear nowhere else, so a byte search for them is meaningful.
PLANTED_GUID = "gulfledger.example:gl-planted-zephyrine"
PLANTED_URL = "http://gulfledger.example/2025/09/28/zephyrine-quillborough-lantern-fair.html"
PLANTED_TITLE = "Quillborough lantern fair draws Zephyrine glassblowers to the harbour"
PLANTED_PARAGRAPHS = [
    "The Quillborough lantern fair opened on Saturday with forty Zephyrine glassblowers working in open "
    "stalls along the harbour wall, the organisers said.",
    "Visitors queued for the marbled xanthoquill lanterns, a local design that takes two days to blow and "
    "cool, and the first batch sold out before noon.",
    "The fair's committee said the event would return next autumn with a larger tent for the "
    "pelmberry-scented candle makers who could not find room this year.",
    "Shopkeepers near the quay reported their busiest weekend since the spring regatta, and the ferry "
    "operator added two late sailings for the crowds heading home.",
    "Organisers said the proceeds would pay for a new roof on the old net loft, which has housed the "
    "glassblowers' winter workshop for more than a century.",
]
DISTINCTIVE = ["Zephyrine glassblowers", "xanthoquill", "pelmberry-scented", "Quillborough lantern fair"]


def copy_sites(dest: Path) -> Path:
    shutil.copytree(EXAMPLES / "sites", dest)
    return dest


def _item(feed: str, guid: str) -> tuple[int, int]:
    start = feed.index(f">{guid}</guid>")
    return feed.rindex("<item>", 0, start), feed.index("</item>", start) + len("</item>")


def _content(block: str) -> str:
    return html.unescape(re.search(r"<content:encoded>(.*?)</content:encoded>", block, re.S).group(1))


def _set_content(block: str, content: str) -> str:
    return re.sub(r"<content:encoded>.*?</content:encoded>",
                  lambda _m: f"<content:encoded>{html.escape(content, quote=True)}</content:encoded>", block,
                  flags=re.S)


def edit_item(sites: Path, guid: str, fn) -> None:
    """Rewrite one RSS item's content:encoded with ``fn(content_html) -> content_html``."""
    path = sites / FEED
    feed = path.read_text(encoding="utf-8")
    a, b = _item(feed, guid)
    block = feed[a:b]
    path.write_text(feed[:a] + _set_content(block, fn(_content(block))) + feed[b:], encoding="utf-8")


def item_content(sites: Path, guid: str) -> str:
    feed = (sites / FEED).read_text(encoding="utf-8")
    a, b = _item(feed, guid)
    return _content(feed[a:b])


def revise_corpus(sites: Path) -> None:
    """A correction note, a rewritten lead, a retraction notice, a trivial change."""
    edit_item(sites, "gulfledger.example:gl-dhofar-tourism", lambda c: c + f"<p>{CORRECTION}</p>")
    edit_item(sites, "gulfledger.example:gl-jeddah-dengue",
              lambda c: re.sub(r"^<p>.*?</p>", f"<p>{NEW_LEAD}</p>", c, count=1, flags=re.S))
    edit_item(sites, "gulfledger.example:gl-sadeem-bank", lambda c: f"<p>{RETRACTION}</p>" + c)
    # trivial: a time stamp line and extra whitespace (no revision)
    edit_item(sites, "gulfledger.example:gl-arabic-llm",
              lambda c: f"<p>{STAMP}</p>\n\n" + c.replace("</p><p>", "</p>\n   <p>"))


def plant(sites: Path) -> None:
    """Add the planted article as the first item of the feed (full text in the feed)."""
    path = sites / FEED
    feed = path.read_text(encoding="utf-8")
    content = "".join(f"<p>{p}</p>" for p in PLANTED_PARAGRAPHS)
    item = (f"<item>\n    <title>{html.escape(PLANTED_TITLE)}</title>\n    <link>{PLANTED_URL}</link>\n"
            f"    <guid isPermaLink=\"false\">{PLANTED_GUID}</guid>\n"
            f"    <pubDate>Sun, 28 Sep 2025 09:00:00 +0400</pubDate>\n"
            f"    <description>{html.escape(PLANTED_PARAGRAPHS[0])}</description>\n"
            f"    <content:encoded>{html.escape(content, quote=True)}</content:encoded>\n  </item>\n  ")
    i = feed.index("<item>")
    path.write_text(feed[:i] + item + feed[i:], encoding="utf-8")
