"""``newsflow warehouse compact``: rewrite a DuckDB warehouse file, smaller and current.

Why a rewrite: DuckDB keeps a file's storage version for life, and a v1.0 file ignores
``USING COMPRESSION zstd`` (migration 018) and stores long strings uncompressed; it also
never returns blocks that deleted or replaced rows freed.  Only a new file fixes both.

How: under newsflow's writer lock (no load writes meanwhile) the warehouse is migrated,
then a new file beside it (``<file>.compact``) is created in the current storage version,
migrated from empty, so its tables are exactly what the migrations make today, and filled
table by table from the old file (by column name).  Row counts are compared, the new file is
synced and renamed over the old one.  A failure before the rename removes the new file;
a crash at any moment leaves the old file whole (the next compact starts the new one
again); a reader in another process that has the old file open keeps reading it.
Tables an analyst added are copied as they are; the fts index of ``newsflow warehouse
fts`` is a derived snapshot and is not copied (run it again).  A takedown's scrub
(:func:`pipeline.warehouse.takedown.scrub`) rewrites the file through here too: the new
file holds no freed block, so no deleted row's bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.failpoints import failpoint
from pipeline.warehouse.backend import WarehouseError, backend_name, open_backend
from pipeline.warehouse.backend_duckdb import (
    DuckDBBackend,
    _WriterLock,
    close_readers,
    connect_writer,
    storage_version,
)

FTS_SCHEMA = "fts_main_articles"


@dataclass
class CompactReport:
    path: str
    before_bytes: int
    after_bytes: int
    storage_before: str | None
    storage_after: str | None
    tables: int
    rows: int
    fts_dropped: bool


def _size(path: str) -> int:
    return sum(os.path.getsize(p) for p in (path, path + ".wal") if os.path.exists(p))


def _remove(path: str) -> None:
    for p in (path, path + ".wal"):
        if os.path.exists(p):
            os.remove(p)


def compact_warehouse(settings: Settings) -> CompactReport:
    """Rewrite the DuckDB warehouse file in place (see the module docstring)."""
    if backend_name(settings) != "duckdb" or settings.duckdb_path == ":memory:":
        raise ConfigError("`newsflow warehouse compact` is for DuckDB warehouse files",
                          "PostgreSQL reclaims space itself (VACUUM); nothing to compact")
    path = os.path.abspath(settings.duckdb_path)
    if not os.path.exists(path):
        raise ConfigError(f"no warehouse at {path}", "run `newsflow run` or `newsflow warehouse migrate` first")
    lock = _WriterLock(path, settings.warehouse_busy_timeout_write)
    lock.acquire()
    try:
        with open_backend(settings) as be:  # re-entrant: the lock above is this thread's
            be.migrate()
            storage_before = storage_version(be.conn)
        close_readers(path)
        if os.path.exists(path + ".wal"):  # closing the writer checkpoints; never rename under a log
            raise WarehouseError(f"{path}.wal is still there after a checkpoint",
                                 "another process writes to this file without newsflow's lock; stop it and retry")
        before = _size(path)
        tmp = path + ".compact"
        _remove(tmp)  # a crashed compact's file
        try:
            tables, rows, fts, storage_after = _write_copy(tmp, path)
            failpoint("before_compact_swap")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        except BaseException:  # the warehouse is untouched; the half-made copy goes
            _remove(tmp)
            raise
        os.replace(tmp, path)
        dir_fd = os.open(Path(path).parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return CompactReport(path, before, _size(path), storage_before, storage_after, tables, rows, fts)
    finally:
        lock.release()


def _write_copy(tmp: str, old_path: str) -> tuple[int, int, bool, str | None]:
    """The new file at ``tmp``: migrated from empty, filled, checkpointed and closed."""
    new = DuckDBBackend(connect_writer(tmp), tmp, False, None)
    try:
        new.migrate()
        tables, rows, fts = _fill(new, old_path)
        storage = storage_version(new.conn)
        new.script("internal/checkpoint")
    finally:
        new.conn.close()
    if os.path.exists(tmp + ".wal"):
        raise WarehouseError(f"{tmp}.wal is still there after the copy's checkpoint", "run compact again")
    return tables, rows, fts, storage


def _fill(new: DuckDBBackend, old_path: str) -> tuple[int, int, bool]:
    """Copy every table of the old file's main schema into the new file; (tables, rows, fts seen)."""
    new.run_script_text(new.sql("internal/compact_attach").format(path=old_path.replace("'", "''")))
    try:
        made = {r["table_name"] for r in new.query("internal/compact_tables", {"database": new.scalar("current_database")})}
        old = [r["table_name"] for r in new.query("internal/compact_tables", {"database": "compact_src"})]
        fts = bool(new.scalar("internal/compact_schema_exists", {"database": "compact_src", "schema": FTS_SCHEMA}))
        total = 0
        with new.transaction():
            for table in old:
                quoted = '"' + table.replace('"', '""') + '"'
                new.run_script_text(new.sql("internal/compact_copy_table" if table in made else "internal/compact_create_table")
                                    .format(table=quoted))
                counts = new._execute(new.sql("internal/compact_counts").format(table=quoted)).fetchone()
                if counts[0] != counts[1]:
                    raise WarehouseError(f"compact copied {counts[1]} of {table}'s {counts[0]} rows",
                                         "the warehouse is unchanged; please report this")
                total += counts[1]
        return len(old), total, fts
    finally:
        new.script("internal/compact_detach")
