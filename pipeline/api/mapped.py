"""A worker's view of a published snapshot: memory-mapped Arrow IPC files, no copies.

Why: the files written by ``pipeline.api.snapfiles`` are opened with ``pyarrow.memory_map``
and ``ipc.open_file``, so every column is a view of the page cache that all workers on the
machine share; a worker's own memory stays small at a million articles and a new version
is served after a few file opens.  Lookups search sorted 64-bit keys with numpy
(``searchsorted``), then confirm the id; there is no per-worker dict of all articles.

Answers are byte for byte those of :class:`pipeline.api.snapshot.Snapshot` (a test builds
both from the same rows and compares every list).
"""

from __future__ import annotations

import fcntl
import json
import os
import weakref
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pipeline.api.snapfiles import FORMAT, TABLES, key_of, read_current
from pipeline.api.snapshot import ServingRules


class _Column:
    """Item access to a mapped string column (``None`` for NULL), like the lists it replaces."""

    __slots__ = ("arr",)

    def __init__(self, arr: pa.Array) -> None:
        self.arr = arr

    def __getitem__(self, i: int) -> Any:
        return self.arr[i].as_py()

    def __len__(self) -> int:
        return len(self.arr)


class _Positions:
    """``pos.get(article_id)`` / ``article_id in pos`` over the sorted keys."""

    __slots__ = ("snap",)

    def __init__(self, snap: MappedSnapshot) -> None:
        self.snap = snap

    def get(self, article_id: str, default: int | None = None) -> int | None:
        i = self.snap.find(article_id)
        return default if i is None else i

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self.snap.find(article_id) is not None


def _array(table: pa.Table, name: str) -> pa.Array:
    col = table.column(name)
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _np(table: pa.Table, name: str) -> np.ndarray:
    """A zero-copy numpy view of a fixed-width, NULL-free column."""
    return _array(table, name).to_numpy(zero_copy_only=True)


class _Strings:
    """A NULL-free string column as its offsets and bytes: ``equals(j, text)`` without
    making an Arrow scalar (the id check after each key search)."""

    __slots__ = ("off", "data")

    def __init__(self, arr: pa.Array) -> None:
        bufs = arr.buffers()
        wide = pa.types.is_large_string(arr.type)
        self.off = np.frombuffer(bufs[1], dtype=np.int64 if wide else np.int32)[arr.offset: arr.offset + len(arr) + 1]
        self.data = memoryview(bufs[2]) if len(arr) and bufs[2] is not None else memoryview(b"")

    def bytes(self, j: int) -> bytes:
        return bytes(self.data[self.off[j]:self.off[j + 1]])


def _find(keys: np.ndarray, ids: _Strings, text: str) -> int | None:
    k = np.uint64(key_of(text))
    j = int(keys.searchsorted(k))
    n = len(keys)
    raw = text.encode("utf-8")
    while j < n and keys[j] == k:
        if ids.bytes(j) == raw:
            return j
        j += 1
    return None


class MappedSnapshot(ServingRules):
    """The serving interface of ``Snapshot`` over one mapped version directory."""

    def __init__(self, root: Path, name: str) -> None:
        path = root / name
        fd = os.open(path / "meta.json", os.O_RDONLY)  # FileNotFoundError: collected meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # BlockingIOError: being collected
            meta = json.loads(os.read(fd, 1 << 20).decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"snapshot {name} has format {meta.get('format')}, this worker reads {FORMAT}")
            self.tables = {t: pa.ipc.open_file(pa.memory_map(str(path / f"{t}.arrow"), "r")).read_all() for t in TABLES}
        except BaseException:
            os.close(fd)
            raise
        self._closer = weakref.finalize(self, os.close, fd)  # the lock lives as long as any request uses us
        self.name, self.meta = name, meta
        self.version: str = meta["version"]
        self.floor: float = float(meta["floor"])
        self.languages: list[str] = meta["languages"]
        self._code = {x: c for c, x in enumerate(self.languages)}
        a = self.tables["articles"]
        self._keys = _np(a, "key")
        self._ids = _Strings(_array(a, "article_id"))
        self._lang = _np(a, "lang_code")
        self._story = _np(a, "story_idx")
        self._start, self._end = _np(a, "span_start"), _np(a, "span_end")
        self._frag = _Strings(_array(a, "frag"))
        s = self.tables["stories"]
        self._story_keys, self._story_ids = _np(s, "key"), _Strings(_array(s, "story_id"))
        self._mem_start, self._mem_end = _np(s, "start"), _np(s, "end")
        m = self.tables["members"]
        self._canon, self._by_time = _np(m, "canonical_first"), _np(m, "by_time")
        r = self.tables["related"]
        self._rel, self._score = _np(r, "rel"), _np(r, "score")
        al = self.tables["aliases"]
        self._alias_keys, self._alias_ids = _np(al, "key"), _Strings(_array(al, "alias"))
        self._alias_to = _Column(_array(al, "story_id"))
        self.ids = _Column(_array(a, "article_id"))
        self.title, self.url = _Column(_array(a, "title")), _Column(_array(a, "url"))
        self.domain, self.lang = _Column(_array(a, "source_domain")), _Column(_array(a, "language"))
        self.published, self.story = _Column(_array(a, "published_at")), _Column(_array(a, "story_id"))
        self.dup_of, self.dup_kind = _Column(_array(a, "duplicate_of")), _Column(_array(a, "dup_kind"))

    @classmethod
    def open_current(cls, root: Path, attempts: int = 5) -> MappedSnapshot | None:
        """Map the published version (None: nothing published yet).  A version collected
        between reading ``CURRENT`` and opening it means a newer one is current: read again."""
        for n in range(attempts):
            name = read_current(root)
            if name is None:
                return None
            try:
                return cls(root, name)
            except (FileNotFoundError, BlockingIOError):
                if n == attempts - 1:
                    raise
        return None

    @property
    def pos(self) -> _Positions:
        """``pos.get(id)`` / ``id in pos`` (made per use: a stored one would be a reference
        cycle, keeping a replaced version mapped and locked until the cyclic GC ran)."""
        return _Positions(self)

    def close(self) -> None:
        """Release the version now (tests; normally the last reference going does it)."""
        self._closer()

    # -- lookups ---------------------------------------------------------------------------
    def find(self, article_id: str) -> int | None:
        return _find(self._keys, self._ids, article_id)

    def _find_story(self, story_id: str) -> int | None:
        return _find(self._story_keys, self._story_ids, story_id)

    def __len__(self) -> int:
        return len(self._keys)

    # -- the Snapshot interface ------------------------------------------------------------
    def _picks(self, i: int, k: int, language: str | None) -> list[tuple[int, float]]:
        """``Snapshot._picks`` over integer codes: language and story as small ints, a
        missing language as -1 (so a reader without one matches members without one, as
        there), a language the snapshot does not hold as -2 (matches nothing).  The list's
        columns are gathered with one numpy take each, then walked as plain ints."""
        lang = self._lang
        reader = int(lang[i]) if not language else self._code.get(language, -2)
        own = int(self._story[i])
        start, end = int(self._start[i]), int(self._end[i])
        if start == end:
            return []
        rel = self._rel[start:end]
        at = np.where(rel >= 0, rel, 0)
        stories, langs = self._story[at].tolist(), lang[at].tolist()
        scores = self._score[start:end].tolist()
        floor = self.floor
        seen: set[int] = set()
        picked = []
        for off, j in enumerate(rel.tolist()):
            s = stories[off]
            if j < 0 or s < 0 or s == own or s in seen:
                continue
            seen.add(s)
            sc = scores[off]
            if langs[off] == reader:
                m, same = j, True
            else:
                m = self._pick(s, reader)
                m, same = (j, False) if m < 0 else (m, True)
            picked.append((not (same and sc >= floor), -sc, off, m))
        picked.sort()
        return [(m, -neg) for _, neg, _, m in picked[:k]]

    def _pick(self, s: int, reader: int) -> int:
        """The story's first member (by time) in the reader's language, else -1."""
        a, b = int(self._mem_start[s]), int(self._mem_end[s])
        if b - a < 2:  # a story of one: that member is the one already looked at
            return -1
        members = self._by_time[a:b]
        for m, code in zip(members.tolist(), self._lang[members].tolist(), strict=True):
            if code == reader:
                return m
        return -1

    def related_json(self, article_id: str, k: int, language: str | None) -> bytes | None:
        """The ``/related`` body from the fragments the builder serialised (the hot path)."""
        i = self.find(article_id)
        if i is None:
            return None
        picks = self._picks(i, k, language)
        parts = [b'{"article_id":', encode_basestring(article_id).encode(), b',"related":[']  # = _dumps, in C
        if picks:
            at = np.fromiter((m for m, _ in picks), dtype=np.int64, count=len(picks))
            starts, ends, data = self._frag.off[at].tolist(), self._frag.off[at + 1].tolist(), self._frag.data
            # one join over memoryview slices: no copy of each fragment, no concatenation
            for a, b, (_, score) in zip(starts, ends, picks, strict=True):
                parts += (data[a:b], b',"score":%r},' % round(score, 6))
            parts[-1] = parts[-1][:-1]
        parts.append(b"]}")
        return b"".join(parts)

    def resolve_story(self, story_id: str) -> str | None:
        if self._find_story(story_id) is not None:
            return story_id
        j = _find(self._alias_keys, self._alias_ids, story_id)
        if j is None:
            return None
        target = self._alias_to[j]
        return target if target is not None and self._find_story(target) is not None else None

    def story_of(self, story_id: str) -> dict | None:
        s = self._find_story(story_id)
        if s is None:
            return None
        return self._story_body(story_id, self._canon[int(self._mem_start[s]):int(self._mem_end[s])].tolist())
