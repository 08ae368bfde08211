"""The API's serving rules over a snapshot of the warehouse (article metadata, related lists,
story aliases), in memory: the reference implementation.

Issue 15: the API now serves memory-mapped snapshots that a builder writes
(``pipeline.api.snapfiles``, ``pipeline.api.mapped``); this class stays as the plain,
readable statement of the rules, and tests hold the mapped snapshot to it byte for byte.

Why: opening a DuckDB file per request costs milliseconds and fails while a pipeline
writer holds the file; at concurrency 32 the website needs answers in a few milliseconds.
So the API reads the warehouse with one short read-only connection per *refresh* (when
the warehouse's version changes) and answers from memory in between.  The selection rules
are those of ``sql/<backend>/related_for.sql`` (a test checks both agree): the reader's own
story never appears; each related story is shown once, through its member in the reader's
language when it has one; reader-language results first, then by score.  Story aliases
(``story_aliases``, migration 009) map retired story ids to the story holding their articles
now, so ``GET /stories/{old id}`` can send a shared link on to the surviving story.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from pipeline.config import Settings


def _fetch_table(be: Any, name: str) -> pa.Table:
    """Rows of ``<name>.sql`` as Arrow (DuckDB natively; PostgreSQL through the cursor)."""
    cur = be._execute(be.sql(name), None)
    for method in ("to_arrow_table", "fetch_arrow_table"):  # DuckDB (newer name first)
        if hasattr(cur, method):
            return getattr(cur, method)()
    cols = [c[0] for c in cur.description]
    rows = cur.fetchall()
    return pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)}) if rows else pa.table({c: [] for c in cols})


def read_version(be: Any) -> tuple[str, float]:
    """A token that changes whenever what the API serves may have changed, and the
    reader-language floor (``related_state.min_score``)."""
    row = be.query("api_version")[0]
    return hashlib.sha256(repr(sorted(row.items(), key=str)).encode()).hexdigest()[:16], float(row["min_score"] or 0.0)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return str(value)


class ServingRules:
    """What both snapshot kinds answer the same way, over their own lookups: ``find``
    (article id to position, None when unknown), ``_picks`` (the served list) and the
    per-article columns ``ids``, ``title``, ``url``, ``domain``, ``lang``, ``published``,
    ``dup_of`` and ``dup_kind``, indexable by position."""

    def item(self, i: int, score: float | None = None) -> dict:
        out = {"article_id": self.ids[i], "title": self.title[i], "url": self.url[i],
               "source_domain": self.domain[i], "language": self.lang[i], "published_at": self.published[i]}
        if score is not None:
            out["score"] = round(float(score), 6)
        return out

    def related(self, article_id: str, k: int, language: str | None) -> list[dict] | None:
        """The served list (None: unknown article)."""
        i = self.find(article_id)
        if i is None:
            return None
        return [self.item(m, score) for m, score in self._picks(i, k, language)]

    def _story_body(self, story_id: str, idx: list[int]) -> dict | None:
        """The ``/stories`` body for a story whose members are ``idx``, canonical first."""
        if not idx:
            return None
        canonical = next((i for i in idx if self.dup_of[i] is None), idx[0])
        return {
            "story_id": story_id,
            "canonical_id": self.ids[canonical],
            "languages": sorted({x for i in idx if (x := self.lang[i])}),
            "articles": [self.item(i) | {"dup_kind": self.dup_kind[i], "duplicate_of": self.dup_of[i],
                                         "is_canonical": i == canonical} for i in idx],
        }


@dataclass
class Snapshot(ServingRules):
    version: str
    ids: list[str]
    pos: dict[str, int]
    title: list[str | None]
    url: list[str]
    domain: list[str]
    lang: list[str | None]
    published: list[str | None]
    story: list[str | None]
    dup_of: list[str | None]
    dup_kind: list[str | None]
    members: dict[str, list[int]]  # story -> member positions, canonical first, then by time
    pick: dict[str, dict[str, int]]  # story -> language -> member shown to that language
    spans: dict[str, tuple[int, int]]  # canonical -> [start, end) in rel/score
    rel: np.ndarray
    score: np.ndarray
    floor: float = 0.0  # reader-language results rank first only from this score
    aliases: dict[str, str] = field(default_factory=dict)  # retired story id -> current story id
    _fragments: dict[int, str] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, settings: Settings) -> Snapshot:
        from pipeline.warehouse.backend import open_backend

        with open_backend(settings, read_only=True) as be:
            version, floor = read_version(be)
            arts = _fetch_table(be, "api_articles")
            lists = _fetch_table(be, "api_related_lists")
            # A warehouse not yet migrated to 009 (the API cannot migrate: it reads only) has no
            # aliases; it still serves everything else.
            aliases = _fetch_table(be, "api_story_aliases") if be.query("table_columns", {"table": "story_aliases"}) \
                else None
        return cls.build(version, arts, lists, floor, aliases)

    @classmethod
    def build(cls, version: str, arts: pa.Table, lists: pa.Table, floor: float = 0.0,
              aliases: pa.Table | None = None) -> Snapshot:
        d = arts.to_pydict()
        ids = d["article_id"]
        pos = {a: i for i, a in enumerate(ids)}
        published = [_iso(v) for v in d["published_at"]]
        by_story: dict[str, list[int]] = {}
        for i, s in enumerate(d["story_id"]):
            if s is not None:
                by_story.setdefault(s, []).append(i)
        members: dict[str, list[int]] = {}
        pick: dict[str, dict[str, int]] = {}
        for s, idx in by_story.items():
            idx.sort(key=lambda i: (d["duplicate_of"][i] is not None, published[i] or "\uffff", ids[i]))
            members[s] = idx
            if len(idx) > 1:
                choice: dict[str, int] = {}
                for i in sorted(idx, key=lambda i: (published[i] or "\uffff", ids[i])):
                    choice.setdefault(d["language"][i], i)
                pick[s] = choice
        owners = lists["article_id"].to_pylist()
        rel_ids = lists["related_id"].to_pylist()
        rel = np.array([pos.get(r, -1) for r in rel_ids], dtype=np.int64)
        score = np.asarray(lists["score"].to_numpy(zero_copy_only=False), dtype=np.float64)
        spans: dict[str, tuple[int, int]] = {}
        start = 0
        for i in range(1, len(owners) + 1):
            if i == len(owners) or owners[i] != owners[start]:
                spans[owners[start]] = (start, i)
                start = i
        alias_map = dict(zip(aliases["alias"].to_pylist(), aliases["story_id"].to_pylist(), strict=True)) \
            if aliases is not None and aliases.num_rows else {}
        return cls(version, ids, pos, d["title"], d["url"], d["source_domain"], d["language"], published,
                   d["story_id"], d["duplicate_of"], d["dup_kind"], members, pick, spans, rel, score, floor,
                   aliases=alias_map)

    def _picks(self, i: int, k: int, language: str | None) -> list[tuple[int, float]]:
        """(member position, score) of the served list for the article at position ``i``."""
        reader = language or self.lang[i]
        own_story = self.story[i]
        start, end = self.spans.get(self.dup_of[i] or self.ids[i], (0, 0))
        seen: set[str] = set()
        picked = []
        for n in range(start, end):
            j = int(self.rel[n])
            if j < 0:
                continue
            s = self.story[j]
            if s is None or s == own_story or s in seen:
                continue
            seen.add(s)
            m = j if self.lang[j] == reader else self.pick.get(s, {}).get(reader, j)
            preferred = self.lang[m] == reader and self.score[n] >= self.floor
            picked.append((not preferred, -float(self.score[n]), n, m))
        picked.sort()
        return [(m, -neg) for _, neg, _, m in picked[:k]]

    def find(self, article_id: str) -> int | None:
        return self.pos.get(article_id)

    def related_json(self, article_id: str, k: int, language: str | None) -> bytes | None:
        """The ``/related`` response body, byte for byte what ``json.dumps`` of
        ``{"article_id", "related": related(...)}`` gives, from per-article fragments
        serialised once: the hot path of the API (``pipeline.api.fastpath``)."""
        i = self.find(article_id)
        if i is None:
            return None
        parts = [self._fragment(m) + ',"score":' + repr(round(score, 6)) + "}"
                 for m, score in self._picks(i, k, language)]
        return ('{"article_id":' + _dumps(article_id) + ',"related":[' + ",".join(parts) + "]}").encode()

    def _fragment(self, i: int) -> str:
        """``item(i)`` as JSON without its closing brace, memoised."""
        frag = self._fragments.get(i)
        if frag is None:
            frag = self._fragments[i] = _dumps(self.item(i))[:-1]
        return frag

    def resolve_story(self, story_id: str) -> str | None:
        """The current story ``story_id`` means: itself when it exists (a current story
        always answers for itself), else the story its alias points to when that one exists,
        else None (unknown).  Aliases are never chained: dedup re-points them already."""
        if story_id in self.members:
            return story_id
        target = self.aliases.get(story_id)
        return target if target in self.members else None

    def story_of(self, story_id: str) -> dict | None:
        return self._story_body(story_id, self.members.get(story_id) or [])
