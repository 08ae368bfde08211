"""Serving snapshots as immutable directories of Arrow IPC files, built outside the workers.

Why (issue 15): each API worker used to rebuild its own in-memory snapshot on every
warehouse change: at 101k articles a reload stalled the worker (slowest request 338 ms)
and every worker held its own 420 MB copy.  Now one *builder* (the ``newsflow serve``
supervisor's builder process, or the first worker that needs one when the API runs
without a supervisor, as in tests) reads the warehouse once, writes a new version
directory and atomically replaces ``CURRENT``; workers memory-map the files
(``pipeline.api.mapped``), so the page cache holds one copy for all of them and a swap
costs a few file opens, never a rebuild.

Layout of the snapshot root (:func:`snapshot_root`: ``api_snapshot_dir`` or its default)::

    CURRENT                 name of the published version directory (os.replace'd)
    build.lock              builders take turns (flock)
    v-<stamp>-<version>/    meta.json, articles, stories, members, related, aliases (.arrow)

A version directory is never modified after ``CURRENT`` names it.  Workers hold a shared
``flock`` on its ``meta.json`` while they use it; :func:`collect` deletes a version that is
neither current nor locked, so old versions go once no worker (or in-flight request)
uses them.  Lookups use sorted 64-bit keys (``key_of``) searched with numpy, never a
per-worker dict.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pipeline.api.arrow_json import iso_texts, json_literals
from pipeline.api.snapshot import _iso
from pipeline.config import Settings

log = logging.getLogger(__name__)
CURRENT = "CURRENT"
TABLES = ("articles", "stories", "members", "related", "aliases")
FORMAT = 1  # bumped when the files change shape: a worker never maps a version it cannot read


def key_of(text: str) -> int:
    """The 64-bit lookup key of an id: blake2b, so keys spread evenly and are stable across
    processes and Python versions (``hash()`` is salted per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _keys(values: pa.Array, known: Known | None = None) -> np.ndarray:
    """The keys of ``values`` (non-null text): taken from ``known`` (texts and keys an earlier
    version holds; a text's key never changes) where it has them, hashed here otherwise.  At 1M
    articles hashing all 1.9 M ids and story ids one Python call at a time took 4.6 s a build."""
    import pyarrow.compute as pc

    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    out = np.zeros(len(values), dtype=np.uint64)
    missing = np.arange(len(values))
    if known is not None and len(values) and len(known[0]):
        at = pc.index_in(values if values.type == known[0].type else values.cast(known[0].type), value_set=known[0])
        found = pc.is_valid(at).to_numpy(zero_copy_only=False)
        out[found] = known[1][at.drop_null().to_numpy()]
        missing = np.flatnonzero(~found)
    if len(missing):
        texts = values.take(pa.array(missing)).to_pylist()
        out[missing] = np.fromiter((key_of(v) for v in texts), dtype=np.uint64, count=len(texts))
    return out


Known = tuple[pa.Array, np.ndarray]  # texts and their keys, from the version being replaced


def _known(root: Path, name: str | None) -> dict[str, Known]:
    """Per table, the (text, key) columns of version ``name``: what a rebuild need not hash
    again.  Nothing when it is absent, unreadable or of another ``FORMAT``."""
    if name is None or _meta_version(root, name) is None:
        return {}
    out = {}
    try:
        for table, column in (("articles", "article_id"), ("stories", "story_id"), ("aliases", "alias")):
            t = pa.ipc.open_file(pa.memory_map(str(root / name / f"{table}.arrow"))).read_all()
            out[table] = (t[column].combine_chunks(), t["key"].to_numpy())
    except (OSError, pa.ArrowException, KeyError):
        return {}
    return out


def read_current(root: Path) -> str | None:
    """The published version directory's name, or None before the first publish."""
    try:
        name = (root / CURRENT).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return name or None


def read_meta(root: Path, name: str) -> dict[str, Any]:
    return json.loads((root / name / "meta.json").read_text(encoding="utf-8"))


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """One builder at a time per root (processes and threads alike: flock on a fresh fd)."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / "build.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_table(path: Path, table: pa.Table) -> None:
    table = table.combine_chunks()
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(table.num_rows, 1))  # one batch: contiguous columns


def _lists(arts: pa.Table, lists: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The related lists as arrays, in Arrow's C++ kernels (millions of rows at 1M articles):
    each row's target position (-1: not an article), its score, and per article the
    [start, end) of the list it reads (its canonical's when it is a copy: ``duplicate_of``
    or itself, as ``Snapshot``).  Rows come ordered by owner (``api_related_lists.sql``)."""
    import pyarrow.compute as pc

    n, m = arts.num_rows, lists.num_rows
    score = np.asarray(lists["score"].to_numpy(zero_copy_only=False), dtype=np.float64)
    if m == 0:
        return np.zeros(0, np.int32), score, np.zeros((n, 2), np.int64)
    ids = arts["article_id"].combine_chunks()
    rel = pc.fill_null(pc.index_in(lists["related_id"], value_set=ids), -1).to_numpy().astype(np.int32)
    owners = lists["article_id"].combine_chunks()
    change = np.flatnonzero(pc.not_equal(owners.slice(1), owners.slice(0, m - 1)).to_numpy(zero_copy_only=False)) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    ends = np.concatenate([change, [m]]).astype(np.int64)
    reads = pc.coalesce(arts["duplicate_of"], arts["article_id"])
    which = pc.index_in(reads, value_set=owners.take(pa.array(starts))).to_numpy(zero_copy_only=False)
    found = ~np.isnan(which.astype(np.float64))
    at = np.where(found, np.nan_to_num(which.astype(np.float64)), 0).astype(np.int64)
    span = np.stack([np.where(found, starts[at], 0), np.where(found, ends[at], 0)], axis=1)
    return rel, score, span


def _stories(ids: pa.Array, story: pa.Array, dup_of: pa.Array, published: pa.Array,
             known: Known | None = None) -> dict[str, np.ndarray | pa.Array]:
    """Story index, sorted by story key, and its members in the two orders ``Snapshot``
    uses: canonical first, then by (date, id) (the member shown), and by (date, id) (the
    first member in a reader's language).  Sorted in Arrow's C++ kernels (bytewise UTF-8
    order is code-point order, as Python's; a missing date sorts as ``"\uffff"``, as there)."""
    import pyarrow.compute as pc

    story_ids = pc.unique(story.drop_null())
    story_keys = _keys(story_ids, known)
    order = np.argsort(story_keys, kind="stable")
    story_ids = story_ids.take(pa.array(order))
    story_keys = story_keys[order]
    code = pc.index_in(story, value_set=story_ids)
    story_idx = pc.fill_null(code, -1).to_numpy().astype(np.int32)
    t = pa.table({"s": code, "copy": pc.is_valid(dup_of), "pub": pc.fill_null(published, "\uffff"), "id": ids,
                  "pos": pa.array(np.arange(len(ids), dtype=np.int32))}).filter(pc.is_valid(code))
    canon = t.take(pc.sort_indices(t, sort_keys=[("s", "ascending"), ("copy", "ascending"), ("pub", "ascending"),
                                                 ("id", "ascending")]))
    by_time = t.take(pc.sort_indices(t, sort_keys=[("s", "ascending"), ("pub", "ascending"), ("id", "ascending")]))
    counts = np.bincount(canon["s"].to_numpy(), minlength=len(story_ids)) if len(story_ids) else np.zeros(0, np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return {"ids": story_ids, "keys": story_keys, "idx": story_idx, "start": starts[:-1], "end": starts[1:],
            "canonical_first": canon["pos"].to_numpy(), "by_time": by_time["pos"].to_numpy()}


def _fragments(arts: pa.Table, published: pa.Array) -> pa.Array:
    """Each article's ``item()`` as JSON without its closing brace: what
    ``json.dumps(item, ensure_ascii=False, separators=(",", ":"))[:-1]`` gives."""
    import pyarrow.compute as pc

    parts: list = []
    for name, column in (("article_id", arts["article_id"]), ("title", arts["title"]), ("url", arts["url"]),
                         ("source_domain", arts["source_domain"]), ("language", arts["language"]),
                         ("published_at", published)):
        parts += [("{" if name == "article_id" else ",") + f'"{name}":', json_literals(column)]
    return pc.binary_join_element_wise(*parts, "").cast(pa.large_string())


def build_tables(arts: pa.Table, lists: pa.Table, aliases: pa.Table | None,
                 known: dict[str, Known] | None = None) -> tuple[dict[str, pa.Table], list[str]]:
    """The snapshot's tables from the warehouse's rows (``api_articles``, ``api_related_lists``,
    ``api_story_aliases``), with the selection rules of :class:`pipeline.api.snapshot.Snapshot`
    precomputed: articles sorted by key, each article's related span, its story, its
    language code and its JSON fragment; stories with their members canonical first and in
    time order (the "member in the reader's language" pick).  ``known``: keys an earlier
    version computed (:func:`_known`).  Returns (tables, languages)."""
    import pyarrow.compute as pc

    known = known or {}
    keys = _keys(arts["article_id"], known.get("articles"))
    order = np.argsort(keys, kind="stable")
    arts = arts.take(pa.array(order)).combine_chunks()
    keys = keys[order]
    pub = iso_texts(arts["published_at"])
    languages = sorted(x for x in pc.unique(arts["language"].drop_null()).to_pylist())
    lang_code = pc.fill_null(pc.index_in(arts["language"], value_set=pa.array(languages, pa.string())), -1)
    st = _stories(arts["article_id"].chunk(0) if arts.num_rows else pa.array([], pa.string()),
                  arts["story_id"].combine_chunks(), arts["duplicate_of"].combine_chunks(), pub, known.get("stories"))
    rel, score, span = _lists(arts, lists)
    frag = _fragments(arts, pub)
    aliases = aliases if aliases is not None else pa.table({"alias": pa.array([], pa.string()),
                                                            "story_id": pa.array([], pa.string())})
    alias_keys = _keys(aliases["alias"], known.get("aliases"))
    alias_order = pa.array(np.argsort(alias_keys, kind="stable"))
    tables = {
        "articles": pa.table({
            "key": pa.array(keys, pa.uint64()), "article_id": arts["article_id"], "title": arts["title"],
            "url": arts["url"], "source_domain": arts["source_domain"], "language": arts["language"],
            "published_at": pub, "story_id": arts["story_id"], "duplicate_of": arts["duplicate_of"],
            "dup_kind": arts["dup_kind"], "lang_code": pa.array(lang_code.to_numpy().astype(np.int16)),
            "story_idx": pa.array(st["idx"]), "span_start": pa.array(span[:, 0]), "span_end": pa.array(span[:, 1]),
            "frag": frag,
        }),
        "stories": pa.table({"key": pa.array(st["keys"], pa.uint64()), "story_id": st["ids"].cast(pa.string()),
                             "start": pa.array(st["start"]), "end": pa.array(st["end"])}),
        "members": pa.table({"canonical_first": pa.array(st["canonical_first"]), "by_time": pa.array(st["by_time"])}),
        "related": pa.table({"rel": pa.array(rel), "score": pa.array(score)}),
        "aliases": pa.table({"key": pa.array(alias_keys[alias_order.to_numpy()], pa.uint64()),
                             "alias": aliases["alias"].take(alias_order).cast(pa.string()),
                             "story_id": aliases["story_id"].take(alias_order).cast(pa.string())}),
    }
    return tables, languages


def write_version(root: Path, version: str, arts: pa.Table, lists: pa.Table, aliases: pa.Table | None,
                  *, floor: float = 0.0, last_load: Any = None, last_counts: list[dict] | None = None,
                  previous: str | None = None) -> str:
    """Write one immutable version directory (not yet published); returns its name.
    ``previous``: the version it replaces, whose keys it reuses."""
    import pyarrow.compute as pc

    t0 = time.perf_counter()
    tables, languages = build_tables(arts, lists, aliases, _known(root, previous))
    name = f"v-{time.time_ns():020d}-{version}"
    tmp = root / f"tmp-{name}-{os.getpid()}"
    tmp.mkdir(parents=True)
    for table_name, table in tables.items():
        _write_table(tmp / f"{table_name}.arrow", table)
    meta = {"format": FORMAT, "version": version, "floor": floor, "languages": languages,
            "articles": arts.num_rows, "lists": pc.count_distinct(lists["article_id"]).as_py() if lists.num_rows else 0,
            "last_load": _iso(last_load), "last_counts": last_counts or [],
            "build_seconds": round(time.perf_counter() - t0, 3)}
    (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    os.rename(tmp, root / name)
    return name


def publish(root: Path, name: str) -> None:
    """Point ``CURRENT`` at ``name`` atomically (a reader sees the old name or the new one)."""
    tmp = root / f".{CURRENT}.{os.getpid()}"
    tmp.write_text(name + "\n", encoding="ascii")
    os.replace(tmp, root / CURRENT)


def collect(root: Path, *, tmp_age: float = 3600.0) -> list[str]:
    """Delete versions no worker uses (neither ``CURRENT`` nor share-locked); returns them.

    A worker share-locks ``meta.json`` of the version it serves until its last request on it
    ends, so a version goes only when nothing can read it any more."""
    current = read_current(root)
    removed = []
    for path in sorted(root.glob("v-*")):
        if path.name == current or not path.is_dir():
            continue
        try:
            fd = os.open(path / "meta.json", os.O_RDONLY)
        except FileNotFoundError:
            shutil.rmtree(path, ignore_errors=True)  # a half-deleted version
            removed.append(path.name)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # still served
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        finally:
            os.close(fd)
    for path in root.glob("tmp-v-*"):  # a builder that died mid-write
        with contextlib.suppress(FileNotFoundError):
            if time.time() - path.stat().st_mtime > tmp_age:
                shutil.rmtree(path, ignore_errors=True)
    return removed


def snapshot_root(settings: Settings) -> Path:
    """Where the snapshots live: ``api_snapshot_dir``, else beside a DuckDB file, else a
    per-warehouse folder in the temp directory (PostgreSQL)."""
    if settings.api_snapshot_dir:
        return Path(settings.api_snapshot_dir).expanduser()
    if settings.warehouse_backend == "duckdb" and settings.duckdb_path != ":memory:":
        return Path(settings.duckdb_path + ".api")
    import tempfile

    tag = hashlib.sha256(f"{settings.warehouse}|{settings.warehouse_schema}".encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"newsflow-api-{tag}"


def refresh(settings: Settings, root: Path | None = None) -> str | None:
    """Build and publish a new version when the warehouse changed; collect old ones.

    Returns the published name when a new version was written, else None.  One short
    read-only warehouse connection; builders on one root take turns (``build.lock``), and a
    builder that finds the warehouse's version already published does nothing."""
    from pipeline.api.snapshot import _fetch_table, read_version
    from pipeline.warehouse.backend import open_backend

    root = root or snapshot_root(settings)
    with build_lock(root):
        current = read_current(root)
        with open_backend(settings, read_only=True) as be:
            version, floor = read_version(be)
            if current is not None and _meta_version(root, current) == version:
                collect(root)
                return None
            arts = _fetch_table(be, "api_articles")
            lists = _fetch_table(be, "api_related_lists")
            # a warehouse not yet migrated to 009 has no aliases; everything else is served
            aliases = _fetch_table(be, "api_story_aliases") if be.query("table_columns", {"table": "story_aliases"}) \
                else None
            last_load = be.query("api_version")[0]["last_load"]
            counts = [{"kind": r["kind"], "rows": int(r["rows"]), "batches": int(r["batches"])}
                      for r in be.query("api_last_load")]
        name = write_version(root, version, arts, lists, aliases, floor=floor, last_load=last_load, last_counts=counts,
                             previous=current)
        publish(root, name)
        removed = collect(root)
    log.info("api snapshot %s published: %d articles (%d old versions collected)", name, arts.num_rows, len(removed))
    return name


def _meta_version(root: Path, name: str) -> str | None:
    try:
        meta = read_meta(root, name)
    except (FileNotFoundError, ValueError):
        return None
    return meta.get("version") if meta.get("format") == FORMAT else None


def stale(settings: Settings, root: Path) -> bool:
    """Whether the warehouse's version is not the published one (one short read)."""
    from pipeline.api.snapshot import read_version
    from pipeline.warehouse.backend import open_backend

    with open_backend(settings, read_only=True) as be:
        version = read_version(be)[0]
    current = read_current(root)
    return current is None or _meta_version(root, current) != version
