"""DuckDB storage: new files in v1.2.0 with zstd bodies (migration 018), and
``newsflow warehouse compact`` rewriting an older file with every row kept (issue 15, disk)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pytest

from bench.warehouse_synth import make_articles
from pipeline.config import Settings
from pipeline.warehouse.backend import open_backend
from pipeline.warehouse.backend_duckdb import STORAGE_VERSION, storage_version
from pipeline.warehouse.stage import load_warehouse
from tests.conftest import REPO
from tests.integration.test_warehouse import put_batch, put_dedup

RUN_TS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TABLES = ("articles", "stories", "article_links", "schema_migrations", "load_ledger", "story_aliases")


def load(settings: Settings, n: int, body_words: int = 120) -> None:
    table, assignments = make_articles(n, batch_id="b1", body_words=body_words)
    put_batch(settings, "2026-b1", table)
    put_dedup(settings, "g1", assignments)
    load_warehouse(settings, run_ts=RUN_TS)


def contents(path: str) -> dict[str, list]:
    """Every row of the newsflow tables, sorted (what compact must keep)."""
    con = duckdb.connect(path, read_only=True)
    try:
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        out = {}
        for t in sorted(names):
            cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()]
            out[t] = sorted(map(repr, con.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall()))
        return out
    finally:
        con.close()


def body_compression(path: str) -> set[str]:
    con = duckdb.connect(path, read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT compression FROM pragma_storage_info('articles') "
                                          "WHERE column_name = 'body_text' AND segment_type = 'VARCHAR'").fetchall()}
    finally:
        con.close()


def file_version(path: str) -> str:
    con = duckdb.connect(path, read_only=True)
    try:
        return storage_version(con)
    finally:
        con.close()


def test_a_new_warehouse_is_created_in_the_current_storage_with_zstd_bodies(settings):
    load(settings, 60)
    assert file_version(settings.duckdb_path) == STORAGE_VERSION
    assert body_compression(settings.duckdb_path) == {"ZSTD"}


def test_compact_rewrites_an_old_file_keeping_every_row(settings, tmp_path, capsys, monkeypatch):
    path = settings.duckdb_path
    duckdb.connect(path, config={"storage_compatibility_version": "v1.0.0"}).close()  # as newsflow made them before
    load(settings, 400, body_words=500)
    assert file_version(path) == "v1.0.0"
    assert body_compression(path) == {"Uncompressed"}  # migration 018's clause is ignored in v1.0
    with open_backend(settings) as be:  # an analyst's own table is kept too
        be.conn.execute("CREATE TABLE my_notes AS SELECT article_id, 'seen' AS note FROM articles LIMIT 7")
    before, size_before = contents(path), os.path.getsize(path)
    assert len(before["articles"]) == 400

    from pipeline.cli import main

    monkeypatch.setenv("NEWSFLOW_WAREHOUSE", settings.warehouse)
    monkeypatch.setenv("NEWSFLOW_LAKE", settings.lake)
    assert main(["warehouse", "status"]) == 0
    assert "run `newsflow warehouse compact`" in capsys.readouterr().out
    assert main(["warehouse", "compact"]) == 0
    out = capsys.readouterr().out
    assert "storage v1.0.0 -> v1.2.0" in out, out

    assert contents(path) == before
    assert file_version(path) == STORAGE_VERSION
    assert body_compression(path) == {"ZSTD"}
    assert os.path.getsize(path) < 0.7 * size_before, (size_before, os.path.getsize(path))
    assert not os.path.exists(path + ".compact")
    assert main(["warehouse", "status"]) == 0
    assert "newsflow warehouse compact" not in capsys.readouterr().out
    # and it still loads: the next batch upserts into the rewritten file
    more, assignments = make_articles(10, start=400, batch_id="b2")
    put_batch(settings, "2026-b2", more)
    put_dedup(settings, "g2", assignments)
    assert load_warehouse(settings, run_ts=RUN_TS).rows_loaded == 10


def test_a_compact_killed_before_the_swap_leaves_the_old_file_and_a_rerun_finishes(settings):
    path = settings.duckdb_path
    duckdb.connect(path, config={"storage_compatibility_version": "v1.0.0"}).close()
    load(settings, 50)
    before = contents(path)
    env = {**os.environ, "NEWSFLOW_WAREHOUSE": settings.warehouse, "NEWSFLOW_LAKE": settings.lake,
           "NEWSFLOW_FAILPOINT": "before_compact_swap"}
    cmd = [sys.executable, "-m", "pipeline.cli", "warehouse", "compact"]
    killed = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert os.path.exists(path + ".compact")  # the half-done copy is left behind ...
    assert file_version(path) == "v1.0.0" and contents(path) == before  # ... the warehouse untouched
    env["NEWSFLOW_FAILPOINT"] = "before_compact_swap=enospc"  # a full disk: one line, the copy removed
    full = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert full.returncode != 0 and "Traceback" not in full.stderr, full.stderr
    assert not os.path.exists(path + ".compact") and contents(path) == before
    env.pop("NEWSFLOW_FAILPOINT")
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert file_version(path) == STORAGE_VERSION and contents(path) == before
    assert not os.path.exists(path + ".compact")


def test_compact_is_for_duckdb_files_only(tmp_path):
    from pipeline.errors import ConfigError
    from pipeline.warehouse.compact import compact_warehouse

    with pytest.raises(ConfigError, match="no warehouse at"):
        compact_warehouse(Settings.load(lake=str(tmp_path / "lake"), warehouse=f"duckdb:///{tmp_path / 'none.duckdb'}"))
    with pytest.raises(ConfigError, match="is for DuckDB"):
        compact_warehouse(Settings.load(lake=str(tmp_path / "lake"), warehouse="postgresql://postgres@127.0.0.1:5432/test"))


def test_status_suggests_compact_when_much_of_the_file_is_free(settings, capsys, monkeypatch):
    from pipeline.cli import main

    load(settings, 300, body_words=500)
    monkeypatch.setenv("NEWSFLOW_WAREHOUSE", settings.warehouse)
    monkeypatch.setenv("NEWSFLOW_LAKE", settings.lake)
    assert main(["warehouse", "status"]) == 0
    assert "newsflow warehouse compact" not in capsys.readouterr().out
    with open_backend(settings) as be:  # an analyst's scratch copies, dropped again
        for n in range(3):
            be.conn.execute(f"CREATE TABLE scratch{n} AS SELECT * FROM articles")
        be.conn.execute("CHECKPOINT")
        for n in range(3):
            be.conn.execute(f"DROP TABLE scratch{n}")
        be.conn.execute("CHECKPOINT")
    before = contents(settings.duckdb_path)
    assert main(["warehouse", "status"]) == 0
    out = capsys.readouterr().out
    assert "is free space (left by replaced rows and dropped tables): `newsflow warehouse compact` returns it" in out, out
    assert main(["warehouse", "compact"]) == 0
    capsys.readouterr()
    assert contents(settings.duckdb_path) == before
    assert main(["warehouse", "status"]) == 0
    assert "newsflow warehouse compact" not in capsys.readouterr().out


def test_compact_leaves_no_byte_of_deleted_rows(settings):
    """What a takedown's scrub relies on (pipeline.warehouse.takedown.scrub): DuckDB keeps a
    deleted row's bytes in freed blocks; the rewritten file has none.  The rows are written
    uncompressed here (``force_compression``) so their bytes can be searched for."""
    load(settings, 30)
    needle = "Zqxjv-needle-" + "k" * 40
    con = duckdb.connect(settings.duckdb_path)
    try:
        con.execute("SET force_compression = 'uncompressed'")
        con.execute("CREATE TABLE scratch (i INTEGER, note VARCHAR)")
        con.execute("INSERT INTO scratch SELECT i, CASE WHEN i % 2 = 0 THEN ? ELSE 'kept-' END || i "
                    "FROM range(4000) t(i)", [needle])
        con.execute("CHECKPOINT")
        con.execute("DELETE FROM scratch WHERE i % 2 = 0")  # half the rows: the row group stays
        con.execute("CHECKPOINT")
    finally:
        con.close()
    assert needle.encode() in open(settings.duckdb_path, "rb").read()  # deleted, still in the file
    from pipeline.warehouse.compact import compact_warehouse

    compact_warehouse(settings)
    assert needle.encode() not in open(settings.duckdb_path, "rb").read()
    con = duckdb.connect(settings.duckdb_path, read_only=True)
    try:
        assert con.execute("SELECT count(*), min(note) FROM scratch").fetchone() == (2000, "kept-1")
    finally:
        con.close()
