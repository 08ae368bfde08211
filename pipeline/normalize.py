"""Turn one feed entry (plus its page, when fetched) into one normalized ``Article``.

Display text and matching text are kept apart: ``body_text`` is what a reader sees (chrome
and attribution lines removed); ``content_hash`` and anchors are computed on the matching
normalization, so Arabic spelling variants and digit systems do not split copies.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pipeline.config import Settings
from pipeline.extract.anchors import extract_anchors
from pipeline.extract.attribution import extract_attribution
from pipeline.extract.dates import choose_published
from pipeline.extract.html import html_to_text
from pipeline.extract.language import detect_language
from pipeline.extract.textnorm import normalize_for_matching
from pipeline.extract.urls import article_id_for, canonicalize_url, source_domain
from pipeline.models import Article, Entry, ExtractError, PageContent

# A feed body shorter than this (as plain text) is treated as a teaser: fetch the page.
FULL_TEXT_MIN_CHARS = 600
_TEASER_ENDINGS = ("…", "...", "[…]", "read more", "continue reading", "اقرأ المزيد", "التفاصيل")


def feed_text(entry: Entry) -> str:
    return html_to_text(entry.content_html or entry.summary_html or "")


def needs_page(entry: Entry) -> bool:
    """True when the feed carries only a teaser and the article page must be fetched."""
    if not entry.link:
        return False
    text = feed_text(entry).strip()
    return len(text) < FULL_TEXT_MIN_CHARS or text.lower().endswith(_TEASER_ENDINGS)


def build_article(
    entry: Entry,
    page: PageContent | None,
    fetched_at: datetime,
    settings: Settings,
    *,
    final_url: str | None = None,
) -> Article:
    """Normalize ``entry`` (and ``page``).  Raises ``ExtractError`` when no text is left."""
    url = final_url or entry.link or entry.feed_url
    canonical = canonicalize_url(url, page.canonical_url if page else None)
    text = page.text if page and page.text.strip() else feed_text(entry)
    if not text.strip():
        raise ExtractError(f"no article text for {url}", reason="no_text")
    language, confidence = detect_language(
        text, settings.languages, hints=[page.html_lang if page else None, entry.language]
    )
    body, attribution = extract_attribution(text, language)
    if not body.strip():
        raise ExtractError(f"only attribution lines in {url}", reason="no_text")
    published, published_source, flag = choose_published(
        entry.published, page.published if page else None, fetched_at, settings.future_tolerance_hours
    )
    domain = source_domain(canonical)
    if attribution.original_domain == domain:
        # An outlet crediting itself ("(Meridian Wire) -" on Meridian Wire) is not a source
        # statement; the line is still kept out of the body so copies hash alike.
        attribution.original_outlet = attribution.original_domain = attribution.original_url = None
    summary = html_to_text(entry.summary_html) if entry.summary_html else body[:300]
    matching = normalize_for_matching(body)
    return Article(
        article_id=article_id_for(canonical),
        url=url,
        canonical_url=canonical,
        feed_url=entry.feed_url,
        source_domain=domain,
        guid=entry.guid,
        title=(entry.title or (page.title if page else "") or "").strip(),
        summary=summary.strip()[:1000],
        body_text=body.strip(),
        language=language,
        language_confidence=float(confidence),
        published_at=published,
        published_at_source=published_source,
        published_at_flag=flag,
        fetched_at=fetched_at,
        authors=list(dict.fromkeys(entry.authors or (page.authors if page else []))),
        translator=attribution.translator,
        original_outlet=attribution.original_outlet,
        original_domain=attribution.original_domain,
        original_url=attribution.original_url,
        attribution_text="\n".join(attribution.lines) or None,
        image_url=page.image_url if page else None,
        tags=list(dict.fromkeys(entry.tags + (page.tags if page else []))),
        content_hash=hashlib.sha256(matching.encode()).hexdigest(),
        anchors=extract_anchors(body, language),
        published_at_inferred=published_source == "fetched",
        section=(page.section if page else None) or (entry.tags[0] if entry.tags else None),
        site_name=page.site_name if page else None,
    )
