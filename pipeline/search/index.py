"""The search index: a tantivy index of pre-analysed article text, with BM25 and filters.

One document per article: ``article_id`` and ``story_id`` (stored, exact terms: an upsert
deletes by ``article_id``), ``lang`` and ``outlet`` (exact terms, filters), ``published``
(a date, range filters and the tie-break), ``hit`` (stored only: what a search hit shows,
title, URL, outlet, language, date and the body its snippet comes from: :mod:`pipeline.search.hits`), and the
analysed text in the field of its language group (``t_en``, ``t_ar``, ``t_other``: whitespace-tokenized, since
:mod:`pipeline.search.analysis` did the analysis).  A query searches each group's field with
that group's analysis of the query words (any term may match, BM25 sums them), so an
English word finds English stems and an Arabic word Arabic stems, whatever the filters.

Beside tantivy's files, ``newsflow-index.json`` records what the index holds: the article
batches of the warehouse's load ledger it has indexed, the analysis version, a commit
counter.  It is written (atomically) after each tantivy commit; a crash between the two
means the next sync indexes those batches again, which is an idempotent upsert.
Writers take ``<dir>/.newsflow.lock`` (flock), so loads in several processes take turns.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import Failure
from pipeline.search.analysis import ANALYSIS_VERSION, GROUPS, group_of, query_terms
from pipeline.search.query import EngineHit, plan, top

META = "newsflow-index.json"
SCHEMA_VERSION = 3  # 2, 3: the stored ``hit`` field (a hit needs no warehouse read); 3 its binary record
REINDEX_HINT = "run `newsflow warehouse reindex` (it rebuilds the index from the warehouse rows)"


class SearchIndexError(Failure):
    """The search index is missing, unreadable or made by another analysis: one line, the fix."""

    default_hint = REINDEX_HINT


@dataclass
class IndexMeta:
    """What the index holds (``newsflow-index.json``)."""

    held: set[str]
    version: int = 0
    analysis: str = ANALYSIS_VERSION
    schema: int = SCHEMA_VERSION
    committed_at: str | None = None
    purged: set[str] = field(default_factory=set)  # taken-down article ids no segment holds (issue 19)

    def to_json(self) -> str:
        return json.dumps({"held": sorted(self.held), "version": self.version, "analysis": self.analysis,
                           "schema": self.schema, "committed_at": self.committed_at,
                           "purged": sorted(self.purged)}, indent=0)

    @classmethod
    def from_json(cls, text: str) -> IndexMeta:
        d = json.loads(text)
        return cls(set(d.get("held") or ()), int(d.get("version") or 0), d.get("analysis") or "?",
                   int(d.get("schema") or 0), d.get("committed_at"), set(d.get("purged") or ()))


def build_schema():
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("article_id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("story_id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("lang", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("outlet", tokenizer_name="raw", index_option="basic")
    sb.add_integer_field("published", stored=True, indexed=True, fast=True)
    # Why stored here: on DuckDB the hits' rows by key cost a table scan (2-4 ms at 1M
    # articles, more than the engine's search); the index is kept current with them anyway.
    sb.add_bytes_field("hit", stored=True, indexed=False)
    for g in GROUPS:
        sb.add_text_field(f"t_{g}", tokenizer_name="whitespace", index_option="freq")
    return sb.build()


def read_meta(path: Path) -> IndexMeta | None:
    try:
        return IndexMeta.from_json((path / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise SearchIndexError(f"search index {path}: {META} is unreadable ({exc})") from exc


def write_meta(path: Path, meta: IndexMeta) -> None:
    tmp = path / f".{META}.tmp"
    tmp.write_text(meta.to_json(), encoding="utf-8")
    os.replace(tmp, path / META)


def _open_tantivy(path: Path, *, create: bool):
    import tantivy

    if not create and not (path / "meta.json").is_file():
        raise SearchIndexError(f"no search index at {path}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        return tantivy.Index(build_schema(), path=str(path), reuse=True)
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SearchIndexError(f"search index {path} is unreadable: {first[:200]}") from exc


def check_meta(path: Path, meta: IndexMeta | None) -> IndexMeta:
    if meta is None:
        raise SearchIndexError(f"search index {path} has no {META} (not made by newsflow, or never committed)")
    if meta.analysis != ANALYSIS_VERSION or meta.schema != SCHEMA_VERSION:
        raise SearchIndexError(f"search index {path} was built by analysis {meta.analysis}/schema {meta.schema}, "
                               f"this newsflow uses {ANALYSIS_VERSION}/{SCHEMA_VERSION}",
                               "the next load rebuilds it; or " + REINDEX_HINT)
    return meta


class IndexWriter:
    """An open writer: upserts, story re-pointing, then one commit with the new metadata."""

    def __init__(self, path: Path, meta: IndexMeta, heap_bytes: int, threads: int) -> None:
        self.path, self.meta = path, meta
        self.index = _open_tantivy(path, create=True)
        self.writer = self.index.writer(heap_size=heap_bytes, num_threads=threads)
        self.added = 0
        self._written: set[str] = set()  # ids added since this writer opened (not yet searchable)
        # what the index held when the writer opened; a manual reader: the default one starts a
        # thread that watches meta.json and reloads, so it outlived the writer (a bus error
        # once a test overwrote the files under it)
        self.index.config_reader(reload_policy="Manual")
        self._committed = self.index.searcher()

    def upsert(self, rows: list[dict[str, Any]], texts: list[str], hits: list[bytes]) -> None:
        """Add or replace the documents of ``rows`` (article_id, story_id, language,
        source_domain, published_s: epoch seconds) with their analysed ``texts`` and stored
        ``hits`` (:mod:`pipeline.search.hits`)."""
        import tantivy

        add, delete = self.writer.add_document, self.writer.delete_documents_by_term
        held = self._may_hold([r["article_id"] for r in rows])
        for r, text, hit in zip(rows, texts, hits, strict=True):
            aid, lang = r["article_id"], r["language"]
            d = tantivy.Document()
            d.add_text("article_id", aid)
            d.add_text("lang", lang or "")
            d.add_text("outlet", r["source_domain"] or "")
            if r["story_id"]:
                d.add_text("story_id", r["story_id"])
            if r["published_s"] is not None:
                d.add_integer("published", int(r["published_s"]))
            if text:
                d.add_text(f"t_{group_of(lang)}", text)  # one field per group: see search()
            d.add_bytes("hit", hit)
            if aid in held:
                delete("article_id", aid)
            add(d)
            held.add(aid)  # a second row of the same id replaces this one
        self._written.update(r["article_id"] for r in rows)
        self.added += len(rows)

    def _may_hold(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` the index may already hold: only those need a delete before their
        add.  A load of new articles holds none, and a delete per document cost about a
        quarter of the engine's indexing CPU (tantivy applies each one at commit)."""
        from tantivy import Query

        held = self._written.intersection(ids)
        if self._committed.num_docs and ids:
            query = Query.term_set_query(self.index.schema, "article_id", ids)
            if self._committed.search(query, 1, count=True).count:
                doc_freq = self._committed.doc_freq
                held.update(a for a in ids if doc_freq("article_id", a))
        return held

    def commit(self, held: set[str]) -> IndexMeta:
        """Commit tantivy, then record what the index now holds."""
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.meta = IndexMeta(self.meta.held | held, self.meta.version + 1,
                              committed_at=datetime.now(UTC).isoformat(timespec="seconds"), purged=self.meta.purged)
        write_meta(self.path, self.meta)
        return self.meta

    def rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.rollback()


@contextlib.contextmanager
def writer_lock(path: Path, timeout: float) -> Iterator[None]:
    """Writers of one index take turns, across threads and processes."""
    path.mkdir(parents=True, exist_ok=True)
    with open(path / ".newsflow.lock", "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SearchIndexError(f"search index {path} is busy (another writer for {timeout:.0f}s)",
                                           "the next load catches up; check for a stuck load") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def open_writer(path: Path, *, timeout: float = 600.0, heap_bytes: int = 256_000_000,
                threads: int = 0, fresh: bool = False) -> Iterator[IndexWriter]:
    """The index at ``path`` for writing (created when absent; ``fresh``: emptied first,
    its version number kept)."""
    old = None
    with writer_lock(path, timeout):
        if fresh:
            with contextlib.suppress(SearchIndexError):
                old = read_meta(path)  # versions keep counting up: replicas pull only newer ones
            _clear(path)
        meta = read_meta(path)
        if meta is None or fresh:
            if (path / "meta.json").is_file() and not fresh:  # tantivy files without ours: start over
                _clear(path)
            meta = IndexMeta(set(), version=old.version if fresh and old is not None else 0)
        else:
            check_meta(path, meta)
        threads = threads or min(4, max(1, len(os.sched_getaffinity(0))))
        w = IndexWriter(path, meta, heap_bytes, threads)
        try:
            yield w
        except BaseException:
            w.rollback()
            raise
        finally:
            del w.writer, w._committed  # releases tantivy's own writer lock, and the segments read


def _clear(path: Path) -> None:
    for p in path.iterdir():
        if p.name != ".newsflow.lock" and p.is_file():
            p.unlink()


# -- reading --------------------------------------------------------------------------------

class Reader:
    """A committed index opened for search; reloads when a writer commits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not (path / META).is_file() and not (path / "meta.json").is_file():
            raise SearchIndexError(f"no search index at {path}")
        self.meta = check_meta(path, read_meta(path))
        self.index = _open_tantivy(path, create=False)
        self.schema = self.index.schema
        self._stamp = self._meta_stamp()

    def _meta_stamp(self) -> tuple[int, int]:
        st = os.stat(self.path / META)
        return st.st_mtime_ns, st.st_size

    def refresh(self) -> None:
        stamp = self._meta_stamp()
        if stamp != self._stamp:
            self.meta = check_meta(self.path, read_meta(self.path))
            self.index.reload()
            self._stamp = stamp

    def search(self, words: list[str], *, language: str | None = None, outlet: str | None = None,
               since: datetime | None = None, until: datetime | None = None, limit: int = 10,
               collapse: bool = False) -> list[EngineHit]:
        """BM25 top ``limit``: score, then newest, then article id (the same on any machine);
        ``collapse``: the best hit of each story only (articles without a story stand alone)."""
        import tantivy
        from tantivy import Occur, Query

        # an English or Arabic filter is its group's field: every document of that language
        # has its text there and no other does (same hits and scores as the ``lang`` term,
        # and the union stays a top-level union that block-max WAND prunes)
        groups = (group_of(language),) if language else GROUPS
        searcher = self.index.searcher()
        terms = [(f"t_{g}", t, searcher.doc_freq(f"t_{g}", t)) for g in groups for t in query_terms(words, g)]
        terms = [x for x in terms if x[2]]  # a term no document holds scores nothing
        if not terms:
            return []
        union, fast, floor = plan(self.schema, searcher, terms)
        filters = []
        if language and groups[0] == "other":
            filters.append(Query.term_query(self.schema, "lang", language))
        if outlet:
            filters.append(Query.term_query(self.schema, "outlet", outlet))

        def filtered(core: Any) -> Any:
            # no filter: the union itself, not wrapped in a one-clause Must (tantivy's block-max
            # WAND only prunes a top-level union; same scores, 0.8 against 1.0 ms at 1M)
            if not filters:
                return core
            return Query.boolean_query([(Occur.Must, core)]
                                       + [(Occur.Must, Query.const_score_query(f, 0.0)) for f in filters])

        if since or until:
            lo = int(since.timestamp()) if since else None
            hi = int(until.timestamp()) if until else None  # exclusive: whole seconds, as stored
            if not filters:
                # a date range alone usually keeps most documents, and an intersection is
                # never pruned (10-15 ms at 1M for a common word, against 1 ms): first the
                # pruned union's best, dated from the fast field; the filtered query only when
                # they hold too few hits in the range
                hits = top(searcher, fast or union, limit, collapse, when=(lo, hi), floor=floor)
                if hits is not None:
                    return hits
            filters.append(Query.range_query(self.schema, "published", tantivy.FieldType.Integer, lo, hi,
                                             include_upper=hi is None))
        if fast is not None:
            hits = top(searcher, filtered(fast), limit, collapse, floor=floor)
            if hits is not None:
                return hits
        return top(searcher, filtered(union), limit, collapse)

    def stored(self, article_ids: list[str]) -> dict[str, bytes]:
        """The stored ``hit`` record of each of ``article_ids`` the index holds."""
        from tantivy import Occur, Query

        if not article_ids:
            return {}
        searcher = self.index.searcher()
        query = Query.boolean_query([(Occur.Should, Query.term_query(self.schema, "article_id", a))
                                     for a in dict.fromkeys(article_ids)])
        out = {}
        for _, addr in searcher.search(query, len(article_ids), count=False).hits:
            d = searcher.doc(addr)
            out[d.get_first("article_id")] = d.get_first("hit")
        return out

_READERS: dict[str, Reader] = {}
_GUARD = threading.Lock()


def reader(path: Path) -> Reader:
    """The process's reader of ``path`` (opened once, refreshed after commits)."""
    key = str(path.resolve())
    with _GUARD:
        r = _READERS.get(key)
        if r is None:
            r = _READERS[key] = Reader(path)
        else:
            try:
                r.refresh()
            except (FileNotFoundError, SearchIndexError):
                del _READERS[key]
                raise
    return r


def forget_readers() -> None:
    """Drop cached readers (tests; after a reindex replaced the files)."""
    with _GUARD:
        _READERS.clear()
