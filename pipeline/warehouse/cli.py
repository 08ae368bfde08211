"""``newsflow warehouse migrate|status|load|reindex|fts|copy|compact`` and the ``newsflow search`` output."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from pipeline.cli_common import settings_from_args


def _redacted(url: str) -> str:
    """The warehouse URL without a password."""
    from pipeline.redact import redact_url

    return redact_url(url)


def cmd_migrate(args: argparse.Namespace) -> int:
    from pipeline.warehouse.backend import open_backend

    settings = settings_from_args(args)
    with open_backend(settings) as be:
        applied = be.migrate()
    print(f"{_redacted(settings.warehouse)}: applied {', '.join(f'{v:03d}' for v in applied) or 'nothing (up to date)'}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from pipeline.warehouse.backend import open_backend, warehouse_exists

    settings = settings_from_args(args)
    if not warehouse_exists(settings):
        print(f"newsflow: error: no warehouse at {_redacted(settings.warehouse)} "
              "(`newsflow warehouse migrate` creates it)", file=sys.stderr)
        return 2
    with open_backend(settings, read_only=True) as be:
        status = be.status()
        pending = [s for s in status if not s.applied]
        counts = {r["table_name"]: r["n"] for r in be.query("warehouse_counts")} if not pending else {}
        size = be.size_bytes()
        loaded = {k: len(be.loaded_batches(k)) for k in ("articles", "dedup", "rejects")} if not pending else {}
        index = _index_lag(be, settings) if not pending else None
        storage = _storage(be)
    if args.json:
        print(json.dumps({
            "warehouse": _redacted(settings.warehouse), "backend": be.name, "size_bytes": size,
            "migrations": [{"version": s.version, "name": s.name, "applied_at": s.applied_at and s.applied_at.isoformat()} for s in status],
            "pending": [s.version for s in pending], "rows": counts, "ledger": loaded, "search_index": index,
            "storage_version": storage[0] if storage else None,
        }, indent=1))
        return 1 if pending else 0
    print(f"warehouse {_redacted(settings.warehouse)} ({be.name}, {size / 1e6:.1f} MB"
          + (f", storage {storage[0]}" if storage else "") + ")")
    if storage and storage[1]:
        print(f"  {storage[1]}")
    for s in status:
        print(f"  {s.version:03d} {s.name:32} {s.applied_at:%Y-%m-%d %H:%M:%S}" if s.applied else f"  {s.version:03d} {s.name:32} PENDING")
    for name, n in counts.items():
        print(f"  {name:18} {n:>10,}")
    if loaded:
        print("  ledger: " + ", ".join(f"{k} {v}" for k, v in loaded.items()))
    if index:
        state = (f"version {index['version']}, {index['batches_behind']} batch(es) behind, {index['queued']} queued"
                 if index["exists"] else "missing: run `newsflow warehouse reindex`")
        print(f"  search index {index['path']}: {state}")
    if pending:
        print(f"{len(pending)} pending migration(s): run `newsflow warehouse migrate`")
    return 1 if pending else 0


COMPACT_FREE_SHARE = 0.3  # status suggests compact above this share of free blocks


def _storage(be) -> tuple[str, str | None] | None:
    """A DuckDB file's storage version, and the hint when it predates newsflow's own."""
    if be.name != "duckdb":
        return None
    from pipeline.warehouse.backend_duckdb import STORAGE_VERSION, storage_version

    version = storage_version(be.conn)
    if version is None:
        return None

    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.lstrip("v").split(".") if p.isdigit())

    if key(version) < key(STORAGE_VERSION):
        return version, (f"storage {version} stores long text uncompressed: run `newsflow warehouse compact` "
                         f"(rewrites the file as {STORAGE_VERSION})")
    blocks = be.query("internal/database_blocks")[0]
    block, total, free = blocks["block_size"], blocks["total_blocks"], blocks["free_blocks"]
    if total and free / total > COMPACT_FREE_SHARE:
        return version, (f"{free * block / 1e6:,.0f} MB of the file ({free / total:.0%}) is free space (left by "
                         "replaced rows and dropped tables): `newsflow warehouse compact` returns it")
    return version, None


def _index_lag(be, settings) -> dict | None:
    from pipeline.errors import ConfigError
    from pipeline.search.index import SearchIndexError
    from pipeline.search.sync import lag

    try:
        return lag(be, settings)
    except (SearchIndexError, ConfigError) as exc:
        return {"path": "?", "exists": False, "error": str(exc)}


def cmd_load(args: argparse.Namespace) -> int:
    from pipeline.warehouse.stage import load_warehouse

    run_ts = datetime.now(UTC).replace(microsecond=0)  # the one clock read of this command
    report = load_warehouse(settings_from_args(args), run_ts=run_ts, batch_ids=args.batch or None)
    print(f"loaded {report.batches_loaded} batch(es), {report.rows_loaded} rows; dedup {report.dedup_generation or '-'}; "
          f"search index {'updated' if report.search_indexed else 'unchanged'}; failed {report.batches_failed}")
    for f in report.failures:
        print(f"  failed: {f}", file=sys.stderr)
    if report.deferred:
        from pipeline.warehouse.backend import WarehouseBusy

        raise WarehouseBusy(f"load deferred: {report.deferred}")
    if report.batches_failed:
        from pipeline.errors import StageIncomplete

        raise StageIncomplete(f"{report.batches_failed} batch(es) failed to load and rolled back",
                              "they are retried by the next load; see the lines above and docs/operations.md")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the search index from the warehouse rows (missing, corrupt, new analysis)."""
    import time

    from pipeline.search.sync import reindex
    from pipeline.warehouse.backend import open_backend

    settings = settings_from_args(args)
    t0 = time.perf_counter()
    with open_backend(settings) as be:
        be.migrate()
        report = reindex(be, settings)
    print(f"search index rebuilt from the warehouse: {report.rows:,} articles, {report.batches} ledgered batch(es), "
          f"version {report.version} in {time.perf_counter() - t0:.1f}s{'; published' if report.published else ''}")
    return 0


def cmd_fts(args: argparse.Namespace) -> int:
    """Analysts' native full text: PostgreSQL's tsvector column + GIN, DuckDB's fts index."""
    from pipeline.errors import ConfigError
    from pipeline.warehouse.backend import open_backend
    from pipeline.warehouse.backend_duckdb import load_fts

    settings = settings_from_args(args)
    with open_backend(settings) as be:
        be.migrate()
        if be.name == "duckdb" and not load_fts(be.conn):
            raise ConfigError("DuckDB's fts extension did not load",
                              "pip install duckdb-extension-fts matching duckdb's version")
        with be.transaction():
            be.lock("migrations")
            be.script("fts_enable")
    what = ("tsvector column articles.search_tsv with GIN index (kept current by PostgreSQL; set "
            "NEWSFLOW_SEARCH_PG_TSVECTOR=1 so new warehouses get it too)" if be.name == "postgres" else
            "fts index fts_main_articles built from the current rows (run again after loads)")
    print(f"{_redacted(settings.warehouse)}: {what}; queries in sql/README.md")
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    """A consistent copy of the DuckDB warehouse for long analyst sessions (see docs)."""
    from pipeline.warehouse.copy import copy_warehouse

    out = copy_warehouse(settings_from_args(args), args.out)
    print(f"copied the warehouse to {out}; open it with `duckdb -readonly {out}`: it never blocks a load")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    """Rewrite the DuckDB warehouse file: current storage version, compressed text, no free blocks."""
    from pipeline.warehouse.compact import compact_warehouse

    r = compact_warehouse(settings_from_args(args))
    print(f"compacted {r.path}: {r.before_bytes / 1e6:.1f} MB -> {r.after_bytes / 1e6:.1f} MB, storage "
          f"{r.storage_before} -> {r.storage_after}, {r.tables} tables, {r.rows:,} rows")
    if r.fts_dropped:
        print("  the fts index (fts_main_articles) is a snapshot and was not copied: run `newsflow warehouse fts`")
    return 0


def print_hits(hits: list, as_json: bool) -> None:
    """``newsflow search`` output: ranked lines with snippets, or JSON."""
    if as_json:
        keys = ("article_id", "title", "url", "source_domain", "language", "published_at", "story_id", "score",
                "snippet", "matched_via")
        print(json.dumps([{k: getattr(h, k) for k in keys} for h in hits], ensure_ascii=False, default=str, indent=1))
        return
    if not hits:
        print("no results")
    for n, h in enumerate(hits, 1):
        day = f"{h.published_at:%Y-%m-%d}" if h.published_at else "undated"
        via = f", same story as {h.matched_via}" if h.matched_via else ""
        print(f"{n:2}. [{h.language}] {h.title}  ({h.source_domain}, {day}, score {h.score:.2f}{via})")
        print(f"    {h.article_id}  {h.url}")
        print(f"    {h.snippet}")


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("warehouse", help="warehouse schema and loads (DuckDB or PostgreSQL)")
    wsub = s.add_subparsers(dest="warehouse_command", required=True)
    m = wsub.add_parser("migrate", help="apply pending migrations (sql/<backend>/NNN_*.sql)")
    m.set_defaults(func=cmd_migrate)
    st = wsub.add_parser("status", help="applied/pending migrations, row counts, size; exit 1 when pending")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(func=cmd_status)
    ld = wsub.add_parser("load", help="merge committed lake batches and the latest dedup generation")
    ld.add_argument("--batch", action="append", help="only this batch id (repeatable)")
    ld.set_defaults(func=cmd_load)
    ri = wsub.add_parser("reindex", help="rebuild the search index from the warehouse rows (missing or corrupt index)")
    ri.set_defaults(func=cmd_reindex)
    ft = wsub.add_parser("fts", help="analysts' native full text: PostgreSQL tsvector + GIN, or DuckDB's fts index")
    ft.set_defaults(func=cmd_fts)
    cp = wsub.add_parser("copy", help="a consistent copy of a DuckDB warehouse for long analyst sessions")
    cp.add_argument("out", help="the copy's path, e.g. ~/newsflow-copy.duckdb (replaced atomically)")
    cp.set_defaults(func=cmd_copy)
    cm = wsub.add_parser("compact", help="rewrite a DuckDB warehouse file: current storage version, compressed "
                                         "text, freed space returned")
    cm.set_defaults(func=cmd_compact)
