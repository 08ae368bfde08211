"""``newsflow lake ...`` subcommands: look at committed batches, compact partitions."""

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


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("lake", help="the Parquet lake: batches, compaction")
    lsub = s.add_subparsers(dest="lake_command", required=True)
    c = lsub.add_parser("compact", help="merge the small files of each article partition into one")
    c.add_argument("--partition", help="only this partition, e.g. dt=2025-08-01")
    c.set_defaults(func=cmd_compact)
    b = lsub.add_parser("batches", help="list committed batches")
    b.add_argument("--kind", default="articles")
    b.set_defaults(func=cmd_batches)
