"""The raw zone: every fetched feed and page body, gzip-compressed and content-addressed.

``raw/bodies/<sha256[:2]>/<sha256>.gz`` holds the bytes; ``raw/fetches/<url-hash>/<sha256>.json``
records who served them (URL, final URL, status, headers) and the FIRST time they were seen.
Both are written create-if-absent, so refetching unchanged bytes changes nothing, and a
date that falls back to "fetch time" stays the same on every rerun.  Parsing can be replayed
from here without the network.
"""

from __future__ import annotations

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

    @property
    def body_key(self) -> str:
        return body_key(self.sha256)


def body_key(sha256: str) -> str:
    return f"raw/bodies/{sha256[:2]}/{sha256}.gz"


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def store_fetch(store: ObjectStore, kind: str, result: FetchResult) -> RawRecord:
    """Keep the body and its fetch record; return the record as first seen."""
    digest = hashlib.sha256(result.body).hexdigest()
    store.put_if_absent(body_key(digest), gzip.compress(result.body, mtime=0))
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
    }
    if not store.put_if_absent(record_key, json.dumps(record, sort_keys=True).encode()):
        record = json.loads(store.get(record_key))
    return _record(record)


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
    )
