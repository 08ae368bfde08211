"""``newsflow dedup ...`` subcommands."""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.cli_common import article_id_arg, settings_from_args


def cmd_explain(args: argparse.Namespace) -> int:
    from pipeline.dedup import explain_pair
    from pipeline.lake.articles import read_articles
    from pipeline.lake.store import open_store

    settings = settings_from_args(args)
    a, b = article_id_arg(args.a), article_id_arg(args.b)
    by_id = {x.article_id: x for x in read_articles(open_store(settings))}
    missing = [x for x in (a, b) if x not in by_id]
    if missing:
        print(f"unknown article(s): {', '.join(missing)}", file=sys.stderr)
        return 2
    print(json.dumps(explain_pair(by_id[a], by_id[b], settings), ensure_ascii=False, indent=2, default=str))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("dedup", help="dedup tools")
    dsub = s.add_subparsers(dest="dedup_command", required=True)
    e = dsub.add_parser("explain", help="why two articles are or are not copies")
    e.add_argument("a", help="article id or URL")
    e.add_argument("b", help="article id or URL")
    e.set_defaults(func=cmd_explain)


def register_eval(sub: argparse._SubParsersAction) -> None:
    """``newsflow eval dedup`` lands here (issue: dedup evaluation)."""
