"""One entry (+ page) -> one article row: identity, dates, language, attribution, new v2 fields."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.config import Settings
from pipeline.extract.html import extract_page
from pipeline.models import Entry
from pipeline.normalize import build_article

FETCHED = datetime(2025, 8, 1, 12, tzinfo=UTC)
BODY = " ".join(["The council approved the new water plan for the city on Tuesday after a long debate."] * 6)
PAGE = f"""<html lang="en"><head><title>Water plan | Daily</title>
<meta property="og:title" content="Water plan approved">
<link rel="canonical" href="https://www.daily.example/news/water-plan?utm_source=x">
<meta property="article:section" content="Local">
<meta property="article:published_time" content="2025-07-31T09:30:00+03:00">
<meta property="og:image" content="/img/w.jpg">
<meta property="og:site_name" content="The Daily">
</head><body><nav>Home | World</nav><article><h1>Water plan approved</h1>
<p>(Reuters) - {BODY}</p><p>{BODY}</p><p>Translated by Jane Roe</p></article></body></html>"""


def _entry(**kw) -> Entry:
    base = dict(feed_url="https://daily.example/rss", guid="g1",
                link="HTTPS://Daily.Example:443/news/water-plan?fbclid=abc&utm_medium=x#top", title="Water plan approved")
    base.update(kw)
    return Entry(**base)


def test_full_row_from_a_page():
    url = "https://daily.example/news/water-plan"
    page = extract_page(PAGE.encode(), url)
    a = build_article(_entry(), page, FETCHED, Settings(), final_url=url)
    assert a.canonical_url == "https://www.daily.example/news/water-plan"
    assert a.article_id == build_article(_entry(link="https://daily.example/news/water-plan?gclid=1"), page, FETCHED, Settings()).article_id
    assert a.published_at == datetime(2025, 7, 31, 6, 30, tzinfo=UTC) and a.published_at_source == "page"
    assert a.published_at_inferred is False and a.published_at_flag is None
    assert a.language == "en" and a.language_confidence > 0.5
    assert a.section == "Local" and a.site_name == "The Daily"
    assert a.image_url == "https://daily.example/img/w.jpg"
    assert a.translator == "Jane Roe" and a.original_domain == "reuters.com"
    assert "Reuters" not in a.body_text and "Translated" not in a.body_text
    assert a.body_text.count("\n\n") == 1  # paragraphs kept


def test_feed_only_entry_uses_fetch_time_and_flags_bad_dates():
    html = "<p>" + BODY + "</p>" * 1
    future = build_article(_entry(content_html=html * 3, published=datetime(2031, 1, 1, tzinfo=UTC)), None, FETCHED, Settings())
    assert future.published_at == FETCHED and future.published_at_source == "fetched"
    assert future.published_at_flag == "future" and future.published_at_inferred is True
    old = build_article(_entry(content_html=html * 3, published=datetime(1970, 1, 1, tzinfo=UTC)), None, FETCHED, Settings())
    assert old.published_at_flag == "too_old"
    tagged = build_article(_entry(content_html=html * 3, tags=["Politics", "Iraq"]), None, FETCHED, Settings())
    assert tagged.section == "Politics"


def test_language_falls_back_to_feed_language_on_short_text():
    a = build_article(_entry(content_html="<p>OK 2025</p>", language="fr"), None, FETCHED, Settings())
    assert a.language == "fr" and a.language_confidence <= 0.5
