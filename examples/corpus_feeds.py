"""Feed writers for the sample corpus: RSS 2.0, Atom 1.0 and JSON Feed 1.1.

Full-content outlets carry every paragraph (attribution lines included, as a real
CMS would); teaser outlets carry one sentence and force a page fetch.  Undated
items simply leave every date element out.
"""

from __future__ import annotations

import json
from html import escape

from corpus_model import Item, Outlet, rfc822, rfc3339


def _x(text: str) -> str:
    return escape(text, quote=True)


def body_html(item: Item) -> str:
    return "".join(f"<p>{escape(p, quote=False)}</p>" for p in item.body)


def _latest(items: list[Item]) -> Item:
    dated = [i for i in items if i.published]
    return max(dated, key=lambda i: (i.published_utc, i.url))


def render_rss(outlet: Outlet, items: list[Item]) -> str:
    latest = _latest(items)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        f"  <title>{_x(outlet.name)}</title>",
        f"  <link>{outlet.base}/</link>",
        f'  <atom:link href="{outlet.feed_url}" rel="self" type="application/rss+xml"/>',
        f"  <description>{_x(outlet.description)}</description>",
        f"  <language>{outlet.language}</language>",
        f"  <lastBuildDate>{rfc822(latest.published)}</lastBuildDate>",
        "  <ttl>15</ttl>",
    ]
    for item in items:
        out += [
            "  <item>",
            f"    <title>{_x(item.title)}</title>",
            f"    <link>{_x(item.feed_link)}</link>",
            f'    <guid isPermaLink="false">{outlet.domain}:{item.id}</guid>',
        ]
        if item.published:
            out.append(f"    <pubDate>{rfc822(item.published)}</pubDate>")
        out += [
            f"    <dc:creator>{_x(item.author)}</dc:creator>",
            f"    <category>{_x(item.section)}</category>",
            f"    <description>{_x(item.summary)}</description>",
        ]
        if outlet.full_content:
            out.append(f"    <content:encoded>{_x(body_html(item))}</content:encoded>")
        out.append("  </item>")
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def render_atom(outlet: Outlet, items: list[Item]) -> str:
    latest = _latest(items)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{outlet.language}">',
        f"  <id>tag:{outlet.domain},2025:feed</id>",
        f"  <title>{_x(outlet.name)}</title>",
        f"  <subtitle>{_x(outlet.description)}</subtitle>",
        f"  <updated>{rfc3339(latest.published)}</updated>",
        f'  <link rel="self" type="application/atom+xml" href="{outlet.feed_url}"/>',
        f'  <link rel="alternate" type="text/html" href="{outlet.base}/"/>',
    ]
    for item in items:
        out += [
            "  <entry>",
            f"    <id>tag:{outlet.domain},2025:{item.id}</id>",
            f'    <title type="text">{_x(item.title)}</title>',
            f'    <link rel="alternate" type="text/html" href="{_x(item.feed_link)}"/>',
        ]
        if item.published:
            out += [
                f"    <published>{rfc3339(item.published)}</published>",
                f"    <updated>{rfc3339(item.published)}</updated>",
            ]
        out += [
            f"    <author><name>{_x(item.author)}</name></author>",
            f'    <category term="{_x(item.section)}"/>',
            f'    <summary type="text">{_x(item.summary)}</summary>',
        ]
        if outlet.full_content:
            out.append(f'    <content type="html">{_x(body_html(item))}</content>')
        out.append("  </entry>")
    out += ["</feed>", ""]
    return "\n".join(out)


def render_jsonfeed(outlet: Outlet, items: list[Item]) -> str:
    feed: dict = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": outlet.name,
        "home_page_url": f"{outlet.base}/",
        "feed_url": outlet.feed_url,
        "description": outlet.description,
        "language": outlet.language,
        "items": [],
    }
    for item in items:
        entry: dict = {"id": f"{outlet.domain}:{item.id}", "url": item.feed_link, "title": item.title}
        if outlet.full_content:
            entry["content_html"] = body_html(item)
        entry["summary"] = item.summary
        if item.published:
            entry["date_published"] = rfc3339(item.published)
        entry["authors"] = [{"name": item.author}]
        entry["tags"] = [item.section, *item.tags]
        feed["items"].append(entry)
    return json.dumps(feed, ensure_ascii=False, indent=2) + "\n"


def render_feed(outlet: Outlet, items: list[Item]) -> str:
    """Newest first, as publishers do; ties broken by URL for stable bytes."""
    ordered = sorted(
        items,
        key=lambda i: (i.published_utc.timestamp() if i.published else 0.0, i.url),
        reverse=True,
    )
    writer = {"rss": render_rss, "atom": render_atom, "jsonfeed": render_jsonfeed}[outlet.feed_format]
    return writer(outlet, ordered)
