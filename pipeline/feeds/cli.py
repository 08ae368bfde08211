"""``newsflow feeds ...`` subcommands."""

from __future__ import annotations

import argparse


def cmd_list(args: argparse.Namespace) -> int:
    from pipeline.feeds.registry import load_feeds

    for f in load_feeds(args.feeds):
        print(f"{f.url}\t{f.name or ''}\t{f.language or ''}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("feeds", help="feed registry tools")
    fsub = s.add_subparsers(dest="feeds_command", required=True)
    e = fsub.add_parser("list", help="list the feeds of a registry file")
    e.add_argument("--feeds", required=True)
    e.set_defaults(func=cmd_list)
