"""Split the feed registry into small shards for dynamic task mapping.

Why by host: feeds of one site are fetched by one task, which keeps per-host load
polite and keeps two feeds that list the same article (a site's RSS and Atom twins)
in one batch, where ingest already collapses them.  Assignment is deterministic (same
registry -> same shards -> same map indexes), so a cleared task re-fetches the same
feeds.  Shards are plain dicts of strings: they travel through XCom.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit


def shard_feeds(feeds: Iterable[Any], *, per_shard: int = 20) -> list[dict[str, Any]]:
    """``[{"name": "shard-01-of-03", "feeds": [{"url", "name", "language"}, ...]}, ...]``.

    ``feeds`` are ``FeedSpec``-like objects (``url``, ``name``, ``language``) or dicts.
    At most ``per_shard`` feeds per shard unless one host alone has more (never split a
    host).  Empty input gives no shards (the mapped task is then skipped).
    """
    if per_shard < 1:
        raise ValueError("per_shard must be >= 1")
    records = [_record(f) for f in feeds]
    if not records:
        return []
    by_host: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_host.setdefault(urlsplit(rec["url"]).hostname or "", []).append(rec)
    # first-fit decreasing: biggest host groups first, each into the emptiest shard it
    # fits in, else a new shard (ties broken by index, so the result is deterministic)
    bins: list[list[dict[str, Any]]] = []
    for host in sorted(by_host, key=lambda h: (-len(by_host[h]), h)):
        group = by_host[host]
        fits = [i for i, b in enumerate(bins) if len(b) + len(group) <= per_shard]
        if fits:
            bins[min(fits, key=lambda i: (len(bins[i]), i))].extend(group)
        else:
            bins.append(list(group))
    width = len(str(len(bins)))
    return [
        {"name": f"shard-{i + 1:0{width}d}-of-{len(bins)}", "feeds": b}
        for i, b in enumerate(bins)
    ]


def _record(feed: Any) -> dict[str, Any]:
    if isinstance(feed, dict):
        url, name, language = feed["url"], feed.get("name"), feed.get("language")
    else:
        url, name, language = feed.url, getattr(feed, "name", None), getattr(feed, "language", None)
    return {"url": str(url), "name": name, "language": language}
