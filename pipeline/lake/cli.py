"""``newsflow lake ...``: the tables, their batches, integrity, compaction, vacuum, migration."""

from __future__ import annotations

import argparse


def _store(args: argparse.Namespace):
    from pipeline.cli_common import settings_from_args
    from pipeline.lake.store import open_store

    return open_store(settings_from_args(args))


def _kinds(args: argparse.Namespace) -> list[str] | None:
    from pipeline.errors import ConfigError
    from pipeline.lake import tables

    if not getattr(args, "table", None):
        return None
    kind = next((k for k in tables.KINDS if args.table in (k, tables.table_name(k))), None)
    if kind is None:
        raise ConfigError(f"no lake table {args.table!r}",
                          f"choose one of {', '.join(tables.table_name(k) for k in tables.KINDS)}")
    return [kind]


def cmd_tables(args: argparse.Namespace) -> int:
    """Every table: where outside engines find it, its version, files and rows."""
    from pipeline.lake import tables

    store = _store(args)
    for kind in tables.KINDS:
        files = tables.files(store, kind)
        rows = sum(f["num_records"] or 0 for f in files)
        v = tables.version(store, kind)
        where = tables.table_uri(store, kind)
        print(f"{tables.table_name(kind):18} v{v if v is not None else '-':<5} {len(files):>4} file(s) {rows:>8} rows  {where}")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    from pipeline.lake.maintenance import compact

    results = compact(_store(args), _kinds(args), target_mb=args.target_mb)
    for r in results:
        state = (f"{r.files_removed} files -> {r.files_added} (version {r.version})" if r.files_added
                 else f"{r.files_before} file(s), nothing to do")
        print(f"{r.table}: {state}")
    print(f"{sum(1 for r in results if r.files_added)} of {len(results)} tables compacted")
    return 0


def cmd_vacuum(args: argparse.Namespace) -> int:
    from pipeline.lake.maintenance import vacuum

    results = vacuum(_store(args), _kinds(args), retain_hours=args.retain_hours, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for r in results:
        if r.retain_hours is None:
            print(f"{r.table}: kept ({r.why})")
        else:
            print(f"{r.table}: {verb} {r.removed} file(s) (retention {r.retain_hours:g} h; {r.why})")
    return 0


def cmd_batches(args: argparse.Namespace) -> int:
    from pipeline.lake.batches import list_batches

    for m in list_batches(_store(args), args.kind):
        print(f"{m.batch_id}  {m.rows:>7} rows  {m.meta}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Verify every data file against the Delta log (size, rows, Parquet); exit 1 if any is bad."""
    from pipeline.lake.integrity import check_lake

    results = check_lake(_store(args), [args.kind] if args.kind else None)
    bad = [r for r in results if r.problem]
    released = {(r.kind, r.batch_id) for r in results if r.was_quarantined and not r.problem}
    for r in bad:
        print(f"BAD  {r.kind} batch {r.batch_id}: {r.key}: {r.problem} (quarantined: readers skip the batch)")
    for kind, batch in sorted(released):
        print(f"OK   {kind} batch {batch}: verifies again, released from quarantine")
    print(f"{len(results)} files checked: {len(bad)} bad"
          + (" (restore them, or ingest again: `newsflow replay --since DAY` / `newsflow run --force`; "
             "derived dedup batches are recomputed by the next run)" if bad else ""))
    return 1 if bad else 0


def publish_related_lists(store) -> tuple[int, int] | None:
    """The related stage's current lists (its state objects stay as they are) as the new
    ``related_lists`` table, which the stage itself publishes from now on: (batches, rows)."""
    import io

    import pyarrow.parquet as pq

    from pipeline.lake import tables
    from pipeline.related.state import latest_generation, publish_lists

    gen = latest_generation(store)
    key = f"related/{gen}/lists.parquet"
    if not gen or not store.exists(key) or tables.latest_batch_id(store, "related-lists") == gen:
        return None
    lists = pq.read_table(io.BytesIO(store.get(key)), use_threads=False)
    publish_lists(store, gen, lists)
    return 1, lists.num_rows


def cmd_migrate(args: argparse.Namespace) -> int:
    """Convert a lake written before issue 14 (own manifests) into Delta tables."""
    from pipeline.lake.legacy import is_legacy, migrate

    store = _store(args)
    if not is_legacy(store):
        print("nothing to migrate: no pre-Delta manifests in this lake")
        return 0
    report = migrate(store, keep_legacy=args.keep_legacy, publish_related=publish_related_lists)
    for kind in sorted(report.batches):
        print(f"{kind}: {report.batches[kind]} batch(es), {report.rows[kind]} rows")
    print(f"dedup-index: {report.index_batches} batch(es) kept as objects")
    for p in report.problems:
        print(f"PROBLEM {p}")
    if report.problems:
        print("old files kept (fix the problems and run `newsflow lake migrate` again)")
        return 1
    print(f"migrated; {report.deleted} old object(s) deleted" if report.deleted else "migrated; old objects kept")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("lake", help="the lake's Delta tables: batches, integrity, compaction, vacuum, migration")
    lsub = s.add_subparsers(dest="lake_command", required=True)
    t = lsub.add_parser("tables", help="list the tables: path for outside engines, version, files, rows")
    t.set_defaults(func=cmd_tables)
    c = lsub.add_parser("compact", help="merge small files of each table (data and batches unchanged)")
    c.add_argument("--table", help="only this table, e.g. articles")
    c.add_argument("--target-mb", type=int, default=256, help="target file size (default 256)")
    c.set_defaults(func=cmd_compact)
    v = lsub.add_parser("vacuum", help="delete files of old versions, keeping every version a consumer has not read")
    v.add_argument("--table", help="only this table, e.g. articles")
    v.add_argument("--retain-hours", type=float, default=168.0, help="keep versions younger than this (default 168)")
    v.add_argument("--dry-run", action="store_true", help="list what would go, delete nothing")
    v.set_defaults(func=cmd_vacuum)
    b = lsub.add_parser("batches", help="list committed batches of a table")
    b.add_argument("--kind", default="articles", help="the table: articles, rejects, dedup-edges, ... (default: articles)")
    b.set_defaults(func=cmd_batches)
    k = lsub.add_parser("check", help="verify every data file against the Delta log; quarantine bad ones")
    k.add_argument("--kind", help="only this table (articles, rejects, dedup-edges, ...)")
    k.set_defaults(func=cmd_check)
    m = lsub.add_parser("migrate", help="convert a lake written before the Delta tables (issue 14)")
    m.add_argument("--keep-legacy", action="store_true", help="keep the old manifests and files")
    m.set_defaults(func=cmd_migrate)
