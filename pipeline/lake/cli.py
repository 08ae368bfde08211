"""``newsflow lake ...`` subcommands: look at committed batches, verify them, compact partitions."""

from __future__ import annotations

import argparse


def cmd_compact(args: argparse.Namespace) -> int:
    from pipeline.cli_common import settings_from_args
    from pipeline.lake.batches import compact
    from pipeline.lake.store import open_store

    results = compact(open_store(settings_from_args(args)), "articles", only=args.partition)
    merged = [r for r in results if r.key]
    for r in results:
        state = f"merged {r.files_before} files -> {r.key}" if r.key else f"{r.files_before} file(s), nothing to do"
        print(f"{r.partition}: {r.rows} rows, {state}")
    print(f"{len(merged)} of {len(results)} partitions compacted")
    return 0


def cmd_batches(args: argparse.Namespace) -> int:
    from pipeline.cli_common import settings_from_args
    from pipeline.lake.batches import list_batches
    from pipeline.lake.store import open_store

    for m in list_batches(open_store(settings_from_args(args)), args.kind):
        print(f"{m.batch_id}  v{m.schema_version}  {m.rows:>7} rows  {len(m.files)} file(s)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Verify every committed file (size, rows, checksum, Parquet); exit 1 if any is bad."""
    from pipeline.cli_common import settings_from_args
    from pipeline.lake.integrity import check_lake
    from pipeline.lake.store import open_store

    results = check_lake(open_store(settings_from_args(args)), [args.kind] if args.kind else None)
    bad = [r for r in results if r.problem]
    released = {(r.kind, r.batch_id) for r in results if r.was_quarantined and not r.problem}
    for r in bad:
        print(f"BAD  {r.kind} batch {r.batch_id}: {r.key}: {r.problem} (quarantined: readers skip the batch)")
    for kind, batch in sorted(released):
        print(f"OK   {kind} batch {batch}: verifies again, released from quarantine")
    batches = {(r.kind, r.batch_id) for r in results}
    print(f"{len(results)} files in {len(batches)} batches checked: {len(bad)} bad"
          + (" (restore them, or ingest again: `newsflow replay --since DAY` / `newsflow run --force`; "
             "derived dedup batches are recomputed by the next run)" if bad else ""))
    return 1 if bad else 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("lake", help="the Parquet lake: batches, integrity check, compaction")
    lsub = s.add_subparsers(dest="lake_command", required=True)
    c = lsub.add_parser("compact", help="merge the small files of each article partition into one")
    c.add_argument("--partition", help="only this partition, e.g. dt=2025-08-01")
    c.set_defaults(func=cmd_compact)
    b = lsub.add_parser("batches", help="list committed batches")
    b.add_argument("--kind", default="articles", help="the zone: articles, dedup, ...")
    b.set_defaults(func=cmd_batches)
    k = lsub.add_parser("check", help="verify every committed file (size, rows, checksum); quarantine bad ones")
    k.add_argument("--kind", help="only this kind of batch (articles, rejects, dedup-index, ...)")
    k.set_defaults(func=cmd_check)
