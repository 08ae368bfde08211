"""Publish committed search indexes to the lake's object store; replicas pull them.

With an S3 lake, several API replicas can serve one index: the loader publishes after each
index commit (``NEWSFLOW_SEARCH_PUBLISH=1``), each replica (``NEWSFLOW_SEARCH_REPLICA=1``)
pulls a newer committed version into its own ``search_index`` folder before a search, at
most every ``search_pull_seconds``.

Layout under the lake (``search/``): tantivy's segment files are immutable (their names
carry a segment id, delete files an opstamp), so they go once to ``files/<name>``; each
commit adds ``versions/<n>.json`` (tantivy's ``meta.json`` text, our metadata, the file
list), written only after its files, and then ``LATEST`` names it.  The last three versions
and their files are kept; older manifests and files no kept version lists are deleted.  A replica fetches the
files it lacks, then swaps in ``meta.json`` and our metadata (each by atomic rename), so a
reader sees the old commit or the new one, never a mix.  Files of the previous version are
kept locally one more round for readers still on it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

from pipeline.config import Settings
from pipeline.search.index import META, read_meta

log = logging.getLogger(__name__)
PREFIX = "search"
_SKIP = {".newsflow.lock", ".tantivy-writer.lock", ".tantivy-meta.lock", ".managed.json", "meta.json", META}


def _files(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.is_file() and p.name not in _SKIP and not p.name.startswith("."))


def publish(settings: Settings, path: Path, *, keep: int | None = None) -> bool:
    """Upload the committed index at ``path`` as a new version; returns whether it did.
    ``keep``: versions kept in the store (default ``KEEP_VERSIONS``; 1 after a rebuild, so
    no older version's files outlive a takedown)."""
    from pipeline.lake.store import open_store

    meta = read_meta(path)
    if meta is None:
        return False
    store = open_store(settings)
    files = _files(path)
    have = {k.rsplit("/", 1)[-1] for k in store.list(f"{PREFIX}/files/")}
    for name in files:
        if name not in have:
            store.put(f"{PREFIX}/files/{name}", (path / name).read_bytes())
    manifest = {"version": meta.version, "files": files, "tantivy_meta": (path / "meta.json").read_text(encoding="utf-8"),
                "newsflow_meta": meta.to_json()}
    key = f"{PREFIX}/versions/{meta.version:010d}.json"
    store.put(key, json.dumps(manifest).encode())
    store.put(f"{PREFIX}/LATEST", key.encode())
    log.info("search index version %d published (%d files)", meta.version, len(files))
    _prune(store, keep or KEEP_VERSIONS)
    return True


KEEP_VERSIONS = 3  # replicas still pulling an older version find its files for two more commits


def _prune(store, versions_kept: int) -> None:
    """Delete version manifests older than the last ``versions_kept`` and the segment files
    none of the kept versions lists (merges retire segments; without this they pile up)."""
    versions = sorted(k for k in store.list(f"{PREFIX}/versions/") if k.endswith(".json"))
    if len(versions) <= versions_kept:
        return
    keep: set[str] = set()
    for k in versions[-versions_kept:]:
        keep |= set(json.loads(store.get(k))["files"])
    for k in store.list(f"{PREFIX}/files/"):
        if k.rsplit("/", 1)[-1] not in keep:
            store.delete(k)
    for k in versions[:-versions_kept]:
        store.delete(k)


def pull(settings: Settings, path: Path) -> bool:
    """Bring the local replica at ``path`` to the latest published version; returns whether
    it changed.  No published index yet: nothing to do (the caller reports a missing index)."""
    from pipeline.lake.store import open_store

    store = open_store(settings)
    if not store.exists(f"{PREFIX}/LATEST"):
        return False
    key = store.get(f"{PREFIX}/LATEST").decode()
    manifest = json.loads(store.get(key))
    local = read_meta(path) if (path / META).is_file() else None
    if local is not None and local.version >= manifest["version"]:
        return False
    path.mkdir(parents=True, exist_ok=True)
    previous = set(json.loads((path / ".previous.json").read_text())) if (path / ".previous.json").is_file() else set()
    current = set(_files(path))
    for name in manifest["files"]:
        if name not in current:
            tmp = path / f".{name}.part"
            tmp.write_bytes(store.get(f"{PREFIX}/files/{name}"))
            os.replace(tmp, path / name)
    for name, text in (("meta.json", manifest["tantivy_meta"]), (META, manifest["newsflow_meta"])):
        tmp = path / f".{name}.part"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path / name)
    keep = set(manifest["files"]) | (current - previous)  # the version readers may still be on
    for name in current - keep:
        (path / name).unlink(missing_ok=True)
    (path / ".previous.json").write_text(json.dumps(sorted(set(manifest["files"]) | current)))
    log.info("search index replica %s now at version %d", path, manifest["version"])
    return True


_LAST: dict[str, float] = {}
_GUARD = threading.Lock()


def maybe_pull(settings: Settings, path: Path) -> None:
    """``pull`` at most every ``search_pull_seconds`` per process (replicas, before a search)."""
    now = time.monotonic()
    key = str(path)
    with _GUARD:
        if now - _LAST.get(key, float("-inf")) < settings.search_pull_seconds:
            return
        _LAST[key] = now
        pull(settings, path)
