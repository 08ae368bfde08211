"""A read copy of the DuckDB warehouse, for analysts who keep a shell open for hours.

DuckDB allows one writing process per file, and a read-only connection in another process
also keeps writers out.  newsflow's loads never fail because of it (they are deferred, see
``pipeline.warehouse.stage``), but the warehouse then stays stale while the shell is open.
So a long session should open a copy: taken while holding newsflow's writer lock
(``<file>.lock``: no load writes meanwhile; the write-ahead log is copied with the file
when there is one), written beside the target and renamed over it, so an analyst who still
has the previous copy open keeps reading that one.  Works while other readers (even the
analyst's own shell on the main file) are open.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import ConfigError


def copy_warehouse(settings: Settings, out: str | os.PathLike[str]) -> Path:
    """Copy the DuckDB warehouse file to ``out`` consistently; returns the path."""
    from pipeline.warehouse.backend import backend_name
    from pipeline.warehouse.backend_duckdb import _WriterLock

    if backend_name(settings) != "duckdb":
        raise ConfigError("`newsflow warehouse copy` is for DuckDB warehouses",
                          "PostgreSQL serves any number of readers: connect with psql")
    target = Path(out).expanduser().resolve()
    if target == Path(settings.duckdb_path).resolve():
        raise ConfigError(f"the copy would overwrite the warehouse itself ({target})", "choose another path")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = Path(settings.duckdb_path)
    if not source.is_file():
        raise ConfigError(f"no warehouse at {source}", "run `newsflow run` first")
    tmp = target.with_name(f".{target.name}.tmp")
    lock = _WriterLock(str(source), settings.warehouse_busy_timeout_write)
    lock.acquire()  # no newsflow load writes while we copy
    try:
        shutil.copyfile(source, tmp)
        wal = Path(f"{source}.wal")
        if wal.is_file():
            shutil.copyfile(wal, Path(f"{tmp}.wal"))
            os.replace(f"{tmp}.wal", f"{target}.wal")
        else:
            Path(f"{target}.wal").unlink(missing_ok=True)
    finally:
        lock.release()
    os.replace(tmp, target)
    return target
