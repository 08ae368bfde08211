"""DuckDB backend: one file, one writer at a time.

DuckDB lets one process open a file for writing; a second writer (or a reader in another
process) gets a lock error.  So writers here take a lock first: a per-file lock shared by
the threads of this process plus an ``flock`` on ``<file>.lock`` for other processes.  Two
loads started at once therefore run one after the other and neither loses rows.  Readers
open read-only connections and retry briefly while a writer holds the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.abc
import importlib.util
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipeline.config import Settings
from pipeline.warehouse.backend import SQL_ROOT, Backend, Params, WarehouseBusy, WarehouseError


class _NoPandas(importlib.abc.MetaPathFinder):
    """DuckDB's Python binding tries ``import pandas`` several times per parameterized
    query to check the parameters' types; without pandas installed each try searches the
    whole sys.path again (a failed import is not cached): about 5 ms per query, more than a
    search in the engine.  This finder, installed only where pandas is absent, raises the
    same ``ModuleNotFoundError`` at once.  (A ``None`` in ``sys.modules`` did that too, but
    pyarrow's pandas shim then read the ``None`` as the module and failed.)"""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


if importlib.util.find_spec("pandas") is None and not any(isinstance(f, _NoPandas) for f in sys.meta_path):
    sys.meta_path.insert(0, _NoPandas())

# The storage format newsflow creates warehouse files in.  v1.2.0 is the first that honours
# ``USING COMPRESSION zstd`` (migration 018) and compresses long strings at all; such a file
# opens in DuckDB 1.2 or later only.  An existing file keeps the version it was created
# with: ``newsflow warehouse compact`` rewrites it (pipeline.warehouse.compact).
STORAGE_VERSION = "v1.2.0"

_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
_HELD = threading.local()


def load_fts(conn: duckdb.DuckDBPyConnection) -> bool:
    """Load the fts extension from the ``duckdb-extension-fts`` wheel (offline).

    Only analysts' on-demand full text needs it (``newsflow warehouse fts``, sql/README.md):
    search runs on the engine (``pipeline.search``), so connections no longer load it."""
    try:
        import duckdb_extension_fts

        base = Path(duckdb_extension_fts.__file__).parent / "extensions"
        for path in sorted(base.glob(f"v{duckdb.__version__}/fts.duckdb_extension")):
            conn.execute(f"LOAD '{path.as_posix()}'")  # a file path from our own package
            return True
    except (ImportError, duckdb.Error):
        pass
    try:
        conn.execute("LOAD fts")
        return True
    except duckdb.Error:
        return False


def connect_writer(path: str) -> duckdb.DuckDBPyConnection:
    """A writing connection; a file it creates has storage version ``STORAGE_VERSION``."""
    return duckdb.connect(path, config={"storage_compatibility_version": STORAGE_VERSION})


def storage_version(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The storage version of the connection's file (``v1.0.0``, ``v1.2.0`` ...; None in memory)."""
    row = conn.execute((SQL_ROOT / "duckdb" / "internal" / "storage_version.sql").read_text(encoding="utf-8")).fetchone()
    return row[0].rstrip("+") if row and row[0] else None


class _WriterLock:
    """Re-entrant in one thread; exclusive between threads and processes."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path, self.timeout = os.path.abspath(path), timeout
        with _LOCKS_GUARD:
            self.rlock = _LOCKS.setdefault(self.path, threading.RLock())
        self.fh = None

    def acquire(self) -> None:
        if not self.rlock.acquire(timeout=self.timeout):
            raise WarehouseError(f"warehouse {self.path} is busy (another writer for {self.timeout:.0f}s)")
        depth = getattr(_HELD, self.path, 0)
        setattr(_HELD, self.path, depth + 1)
        if depth:  # this thread already holds the file lock
            return
        try:
            self.fh = open(self.path + ".lock", "a+")
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise WarehouseError(f"warehouse {self.path} is busy (another process writes)") from None
                    time.sleep(0.05)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        depth = getattr(_HELD, self.path, 1) - 1
        setattr(_HELD, self.path, depth)
        if depth == 0 and self.fh is not None:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None
        self.rlock.release()


class _Reader:
    """A shared read-only connection to one file, closed once idle (see ``_READERS``)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn, self.users = conn, 0
        self.idle_since: float | None = None  # monotonic time the last user left
        self.idle = 0.0  # seconds to stay open after that


# path -> open read-only connection.  Readers in one process share it (each query gets its
# own cursor); it is closed ``warehouse_reader_idle_seconds`` after the last user (by one
# reaper thread per process: a timer thread per query cost 1-3 ms to start under load, more
# than a search), and at once when this process wants to write, so other processes'
# writers are not kept out.
_LITERAL_KEY = re.compile(r"[0-9A-Za-z_.:-]{1,128}")
_MAX_LITERAL_KEYS = 1000
_READERS: dict[str, _Reader] = {}
_READERS_GUARD = threading.Condition(threading.Lock())
_REAPER: list[threading.Thread] = []
_REAPER_WAKES: list[float | None] = [None]  # when the reaper wakes next (None: when told)


def _reap_idle_readers() -> None:
    """Close each reader once it has been idle for its ``idle`` seconds; sleeps until the
    next such moment, or until a release wakes it."""
    with _READERS_GUARD:
        while True:
            now, wait = time.monotonic(), None
            for path, reader in list(_READERS.items()):
                if reader.users or reader.idle_since is None:
                    continue
                left = reader.idle_since + reader.idle - now
                if left <= 0:
                    del _READERS[path]
                    reader.conn.close()
                else:
                    wait = left if wait is None else min(wait, left)
            _REAPER_WAKES[0] = None if wait is None else now + wait
            _READERS_GUARD.wait(wait)


def _idle(reader: _Reader, idle: float) -> None:
    """The last user left ``reader`` (guard held): start its idle clock."""
    reader.idle_since, reader.idle = time.monotonic(), idle
    if not _REAPER:
        _REAPER.append(threading.Thread(target=_reap_idle_readers, name="duckdb-reader-reaper", daemon=True))
        _REAPER[0].start()
    elif _REAPER_WAKES[0] is None or _REAPER_WAKES[0] > reader.idle_since + idle:
        _READERS_GUARD.notify()  # only when it would otherwise sleep past this deadline


def close_readers(path: str | None = None) -> None:
    """Close the cached read-only connections (of ``path``, or all) not in use right now."""
    with _READERS_GUARD:
        for p in [p for p in _READERS if path is None or p == path]:
            reader = _READERS[p]
            if reader.users == 0:
                del _READERS[p]
                reader.conn.close()


class DuckDBBackend(Backend):
    name = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection, path: str, read_only: bool, lock: _WriterLock | None) -> None:
        self.conn, self.path, self.read_only, self._lock = conn, path, read_only, lock
        self._reader: _Reader | None = None
        self._idle = 0.0
        if not read_only:
            self.script("writer_session")  # bulk loads: checkpoint on close, not every 16 MB
        self._depth = 0

    @classmethod
    def open(cls, settings: Settings, *, read_only: bool = False) -> DuckDBBackend:
        path = settings.duckdb_path
        if path == ":memory:":
            return cls(duckdb.connect(":memory:"), path, False, None)
        if read_only:
            return cls._open_reader(settings, path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        lock = _WriterLock(path, settings.warehouse_busy_timeout_write)
        lock.acquire()
        try:
            key = os.path.abspath(path)
            deadline = time.monotonic() + settings.warehouse_busy_timeout
            while True:
                close_readers(key)  # our own idle readers would keep the writer out
                try:
                    return cls(connect_writer(path), path, False, lock)
                except (duckdb.IOException, duckdb.ConnectionException) as exc:  # a reader holds it
                    if time.monotonic() > deadline:
                        raise WarehouseBusy(f"warehouse {path} is held by another process "
                                            f"(waited {settings.warehouse_busy_timeout:.0f}s)") from exc
                    time.sleep(0.1)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_reader(cls, settings: Settings, path: str) -> DuckDBBackend:
        if not os.path.exists(path):
            raise WarehouseError(f"no warehouse at {settings.warehouse}; run `newsflow run` first")
        key = os.path.abspath(path)
        deadline = time.monotonic() + settings.warehouse_busy_timeout
        while True:
            with _READERS_GUARD:
                reader = _READERS.get(key)
                if reader is None and getattr(_HELD, key, 0) == 0:
                    try:
                        config = {"threads": settings.warehouse_reader_threads} \
                            if settings.warehouse_reader_threads else {}
                        reader = _Reader(duckdb.connect(path, read_only=True, config=config))
                        _READERS[key] = reader
                    except (duckdb.IOException, duckdb.ConnectionException) as exc:  # a writer holds it
                        if time.monotonic() > deadline:
                            raise WarehouseError(f"warehouse {path} is busy: {exc}") from exc
                        reader = None
                if reader is not None:
                    reader.idle_since = None
                    reader.users += 1
                    be = cls(reader.conn.cursor(), path, True, None)
                    be._reader, be._idle = reader, settings.warehouse_reader_idle_seconds
                    return be
            if time.monotonic() > deadline:
                raise WarehouseError(f"warehouse {path} is busy (this process is writing)")
            time.sleep(0.1)

    def query_keys(self, name: str, param: str, keys: Sequence[str]) -> list[dict[str, Any]]:
        """DuckDB pushes only a *constant* ``IN`` list into the table scan: ``article_id =
        ANY($ids)`` with a few ids (a story's members) is a hash join over the whole table
        (11-17 ms at 1M articles), the same ids as literals a filtered scan (about 2 ms).
        So ``= ANY($<param>)`` becomes ``IN ('k1', ...)`` when every key is a plain
        identifier (``_LITERAL_KEY``: letters, digits, ``_.:-``; never a quote), else the
        query runs with the parameter as written."""
        keys = list(keys)
        marker = f"= ANY(${param})"
        text = self.sql(name)
        if not keys or len(keys) > _MAX_LITERAL_KEYS or marker not in text \
                or not all(isinstance(k, str) and _LITERAL_KEY.fullmatch(k) for k in keys):
            return super().query_keys(name, param, keys)
        cur = self._execute(text.replace(marker, "IN (" + ", ".join(f"'{k}'" for k in keys) + ")"))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def _execute(self, text: str, params: Params = None) -> Any:
        return self.conn.execute(text, params) if params is not None else self.conn.execute(text)

    def stage(self, name: str, table: pa.Table, *, like: str | None = None) -> None:
        if like:
            cols = self.columns(like)
            table = table.select([c for c in table.column_names if c in cols])
        self.conn.register(name, table)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[DuckDBBackend]:
        if self._depth:  # nested: part of the outer transaction
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            if self._reader is not None:
                self._release_reader()

    def _release_reader(self) -> None:
        reader, key = self._reader, os.path.abspath(self.path)
        self._reader = None
        with _READERS_GUARD:
            reader.users -= 1
            if reader.users == 0 and _READERS.get(key) is reader:
                if self._idle <= 0:
                    del _READERS[key]
                    reader.conn.close()
                else:
                    _idle(reader, self._idle)

    def size_bytes(self) -> int:
        if self.path == ":memory:":
            return 0
        return sum(os.path.getsize(p) for p in (self.path, self.path + ".wal") if os.path.exists(p))

    def is_busy_error(self, exc: BaseException) -> bool:
        return isinstance(exc, duckdb.TransactionException)
