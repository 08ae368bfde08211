"""The raw zone: every fetched feed and page body, gzip-compressed and content-addressed.

``raw/bodies/<sha256[:2]>/<sha256>.gz`` holds the bytes; ``raw/fetches/<url-hash>/<sha256>.json``
records who served them (URL, final URL, status, headers, plus ``meta`` such as the
registry URL and language of the feed) and the FIRST time they were seen.  Both are written
create-if-absent, so refetching unchanged bytes changes nothing, and a date that falls back
to "fetch time" stays the same on every rerun.  Feed records are also indexed by the day
they were first seen (``raw/feeds-by-day/dt=YYYY-MM-DD/<url-hash>-<sha256>.json``) so
``newsflow replay --since DATE`` lists only the days it needs; pages are found by the hash
of their URL.  Parsing can be replayed from here without the network.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from pipeline.lake.store import ObjectStore
from pipeline.models import FetchResult


@dataclass(frozen=True)
class RawRecord:
    kind: str  # feed | page
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    fetched_at: datetime
    sha256: str
    size: int
    meta: dict | None = None

    @property
    def body_key(self) -> str:
        return body_key(self.sha256)


def body_key(sha256: str) -> str:
    return f"raw/bodies/{sha256[:2]}/{sha256}.gz"


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def store_fetch(
    store: ObjectStore, kind: str, result: FetchResult, meta: dict | None = None, stones=None
) -> RawRecord:
    """Keep the body and its fetch record; return the record as first seen.

    ``stones`` (:class:`pipeline.lake.tombstones.Tombstones`): a feed body is stored without
    the items of taken-down articles (issue 19: never stored again)."""
    body = result.body
    if kind == "feed" and stones:
        from pipeline.lake.tombstones import needles_for, redact_feed

        body = redact_feed(body, needles_for(stones))
        if body != result.body:
            meta = {**(meta or {}), "redacted": sorted(stones.ids)}
            result = dataclasses.replace(result, body=body)
    digest = hashlib.sha256(body).hexdigest()
    store.put_if_absent(body_key(digest), gzip.compress(body, mtime=0))
    record_key = f"raw/fetches/{url_hash(result.url)}/{digest}.json"
    record = {
        "kind": kind,
        "url": result.url,
        "final_url": result.final_url,
        "status": result.status,
        "headers": result.headers,
        "fetched_at": result.fetched_at.isoformat(),
        "sha256": digest,
        "size": len(result.body),
        "meta": meta or {},
    }
    encoded = json.dumps(record, sort_keys=True).encode()
    if not store.put_if_absent(record_key, encoded):
        record = json.loads(store.get(record_key))
    elif kind == "feed":
        store.put_if_absent(day_key(result.fetched_at, result.url, digest), encoded)
    return _record(record)


def store_redacted(store: ObjectStore, body: bytes, records: list[dict], taken_down: list[str]) -> str:
    """A feed body rewritten without taken-down items (``pipeline.lake.purge``): stored
    under its own hash, with every fetch record of the old body copied to point at it
    (first-seen times kept, ``meta.redacted`` naming the articles).  Returns the new hash;
    the caller deletes the old records and body."""
    digest = hashlib.sha256(body).hexdigest()
    store.put_if_absent(body_key(digest), gzip.compress(body, mtime=0))
    for rec in records:
        new = {**rec, "sha256": digest, "size": len(body),
               "meta": {**(rec.get("meta") or {}), "redacted": sorted({*(rec.get("meta") or {}).get("redacted", []),
                                                                        *taken_down})}}
        encoded = json.dumps(new, sort_keys=True).encode()
        store.put(f"raw/fetches/{url_hash(rec['url'])}/{digest}.json", encoded)
        if rec["kind"] == "feed":
            store.put(day_key(datetime.fromisoformat(rec["fetched_at"]), rec["url"], digest), encoded)
    return digest


def day_key(fetched_at: datetime, url: str, sha256: str) -> str:
    return f"raw/feeds-by-day/dt={fetched_at:%Y-%m-%d}/{url_hash(url)}-{sha256}.json"


def feed_records_between(
    store: ObjectStore, since: datetime, until: datetime | None = None
) -> list[RawRecord]:
    """Feed fetch records first seen in [since, until), oldest first (reads only those days)."""
    out = []
    for key in store.list("raw/feeds-by-day/"):
        day = key.split("/")[2].removeprefix("dt=")
        if day < f"{since:%Y-%m-%d}" or (until is not None and day > f"{until:%Y-%m-%d}"):
            continue
        rec = _record(json.loads(store.get(key)))
        if rec.fetched_at >= since and (until is None or rec.fetched_at < until):
            out.append(rec)
    return sorted(out, key=lambda r: (r.fetched_at, r.url, r.sha256))


def latest_record(store: ObjectStore, url: str, kind: str | None = None) -> RawRecord | None:
    """The most recently first-seen body fetched from ``url`` (e.g. an article page)."""
    recs = [
        _record(json.loads(store.get(k)))
        for k in store.list(f"raw/fetches/{url_hash(url)}/")
        if k.endswith(".json")
    ]
    recs = [r for r in recs if r.url == url and (kind is None or r.kind == kind)]
    return max(recs, key=lambda r: (r.fetched_at, r.sha256)) if recs else None


def load_body(store: ObjectStore, sha256: str) -> bytes:
    return gzip.decompress(store.get(body_key(sha256)))


def iter_records(store: ObjectStore) -> list[RawRecord]:
    return [_record(json.loads(store.get(k))) for k in store.list("raw/fetches/") if k.endswith(".json")]


def _record(data: dict) -> RawRecord:
    return RawRecord(
        kind=data["kind"],
        url=data["url"],
        final_url=data["final_url"],
        status=data["status"],
        headers=data["headers"],
        fetched_at=datetime.fromisoformat(data["fetched_at"]),
        sha256=data["sha256"],
        size=data["size"],
        meta=data.get("meta") or {},
    )
