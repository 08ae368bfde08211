"""Takedown tombstones in the lake: what must never be fetched or stored again.

Why in the lake (``state/tombstones/<article_id>.json``) and not only in the warehouse:
ingestion (feeds, extract, lake writes) runs in Airflow shards that may never see the
warehouse, and a tombstone must stop them all.  One small JSON object per taken-down
article, keyed by its ``article_id`` (the hash of its canonical URL), so a repeated
takedown of the same article is the same key: idempotent, and the first request's audit
fields (reason, who, when) stay.  A tombstone holds identifiers only (URLs, content
hashes, GUIDs), never the article's text.

Readers take the whole set once per stage (:func:`load`) and ask it about URLs, ids and
content hashes (:class:`Tombstones`); stages compare the set they started with against
the one they end with (:func:`load` again) to purge what they wrote while a takedown was
being requested (``pipeline.lake.purge``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from pipeline.lake.store import ObjectStore

PREFIX = "state/tombstones/"
_BLOCK = re.compile(rb"<(item|entry)\b[^>]*>.*?</\1\s*>\s*", re.DOTALL | re.IGNORECASE)
REASON = "taken_down"  # the reject reason ingestion counts


@dataclass
class Tombstone:
    article_id: str
    url: str
    canonical_url: str
    reason: str
    requested_by: str
    requested_at: str  # ISO time of the request, taken at the CLI boundary
    content_hashes: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # every URL and final URL the article was seen at
    guids: list[str] = field(default_factory=list)
    purged: dict | None = None  # what the purge removed, per store (None: not finished yet)

    @property
    def takedown_id(self) -> str:
        """Deterministic: the article and the request time."""
        return "td_" + hashlib.sha256(f"{self.article_id}\n{self.requested_at}".encode()).hexdigest()[:16]

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> Tombstone:
        data = json.loads(raw)
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def key(article_id: str) -> str:
    return f"{PREFIX}{article_id}.json"


def get(store: ObjectStore, article_id: str) -> Tombstone | None:
    k = key(article_id)
    return Tombstone.from_json(store.get(k)) if store.exists(k) else None


def write(store: ObjectStore, stone: Tombstone) -> Tombstone:
    """Store ``stone`` unless the article already has one; returns the stored tombstone.
    The identifiers of a repeated request are merged in (more URLs and hashes to refuse)."""
    if store.put_if_absent(key(stone.article_id), stone.to_json()):
        return stone
    kept = get(store, stone.article_id) or stone
    merged = False
    for name in ("content_hashes", "urls", "guids"):
        extra = [v for v in getattr(stone, name) if v and v not in getattr(kept, name)]
        if extra:
            setattr(kept, name, sorted({*getattr(kept, name), *extra}))
            merged = True
    if merged:
        store.put(key(kept.article_id), kept.to_json())
    return kept


def mark_purged(store: ObjectStore, stone: Tombstone, summary: dict) -> None:
    stone.purged = summary
    store.put(key(stone.article_id), stone.to_json())


def read_all(store: ObjectStore) -> list[Tombstone]:
    out = []
    for k in store.list(PREFIX):
        if k.endswith(".json"):
            out.append(Tombstone.from_json(store.get(k)))
    return sorted(out, key=lambda t: (t.requested_at, t.article_id))


class Tombstones:
    """The set of tombstones a stage checks (taken once, cheap lookups)."""

    def __init__(self, stones: list[Tombstone]) -> None:
        self.stones = {t.article_id: t for t in stones}
        self.hashes = {h for t in stones for h in t.content_hashes if h}
        self.urls = {u for t in stones for u in (t.url, t.canonical_url, *t.urls) if u}

    def __bool__(self) -> bool:
        return bool(self.stones)

    def __len__(self) -> int:
        return len(self.stones)

    @property
    def ids(self) -> set[str]:
        return set(self.stones)

    def blocks_url(self, url: str | None) -> bool:
        """Whether ``url`` (as linked, or canonicalized) names a taken-down article."""
        if not url or not self.stones:
            return False
        from pipeline.extract.urls import article_id_for, canonicalize_url

        if url in self.urls:
            return True
        try:
            canonical = canonicalize_url(url, None)
        except Exception:  # an unparsable link is not ours to judge here
            return False
        return canonical in self.urls or article_id_for(canonical) in self.stones

    def blocks(self, article_id: str | None, content_hash: str | None = None, url: str | None = None) -> bool:
        return bool(self.stones) and (article_id in self.stones or (content_hash in self.hashes if content_hash else False)
                                      or self.blocks_url(url))


def load(store: ObjectStore) -> Tombstones:
    return Tombstones(read_all(store))


def digest(stones: Tombstones) -> str:
    """Changes when an article is taken down: part of the dedup generation id, so the next
    dedup run re-clusters without it."""
    if not stones:
        return ""
    return "|td:" + hashlib.sha256("\n".join(sorted(stones.ids)).encode()).hexdigest()[:12]


def redact_feed(body: bytes, needles: list[bytes]) -> bytes:
    """``body`` without the feed items (RSS/RDF ``<item>``, Atom ``<entry>``, JSON Feed
    items) that mention any of ``needles``; the same bytes when none does."""
    if not any(n in body for n in needles):
        return body
    if body.lstrip()[:1] == b"{":
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            doc["items"] = [i for i in doc["items"]
                            if not any(n in json.dumps(i, ensure_ascii=False).encode() for n in needles)]
            return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    return _BLOCK.sub(lambda m: b"" if any(n in m.group(0) for n in needles) else m.group(0), body)


def needles_for(stones: Tombstones, extra: Iterable[str] = ()) -> list[bytes]:
    """Byte patterns that identify the articles inside a feed body: their URLs as written
    (also XML- and JSON-escaped), GUIDs, and ``extra`` (e.g. the title, in memory only)."""
    out: set[bytes] = set()
    for value in [*stones.urls, *(g for t in stones.stones.values() for g in t.guids if len(g) >= 12), *extra]:
        if value:
            for form in (value, value.replace("&", "&amp;"), value.replace("/", "\\/")):
                out.add(form.encode("utf-8"))
    return sorted(out)
