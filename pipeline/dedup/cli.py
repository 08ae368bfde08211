"""``newsflow dedup ...`` subcommands."""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.cli_common import article_id_arg, settings_from_args


def cmd_explain(args: argparse.Namespace) -> int:
    from pipeline.dedup.explain import ExplainError, explain_stored
    from pipeline.lake.store import open_store

    settings = settings_from_args(args)
    a, b = article_id_arg(args.a), article_id_arg(args.b)
    try:
        out = explain_stored(open_store(settings), settings, a, b)
    except ExplainError as exc:
        print(f"newsflow: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("dedup", help="dedup tools")
    dsub = s.add_subparsers(dest="dedup_command", required=True)
    e = dsub.add_parser("explain", help="why two articles are or are not copies: the pipeline's "
                        "candidates, edge decision and story path, replayed from the lake")
    e.add_argument("a", help="article id or URL")
    e.add_argument("b", help="article id or URL")
    e.set_defaults(func=cmd_explain)


def cmd_eval(args: argparse.Namespace) -> int:
    from pipeline.dedup.evaluate import (
        DEFAULT_SPLIT,
        evaluate,
        format_full,
        ntrex_devset,
        read_jsonl,
        read_split,
        targets_met,
    )

    settings = settings_from_args(args)
    split = truth = None
    profile = "synthetic"
    if args.split:
        split = read_split(DEFAULT_SPLIT if args.split == "default" else args.split)
        profile = "real"
    if args.ntrex:
        items, pairs = ntrex_devset(args.ntrex)
        truth, profile = (lambda x: x.split(":", 1)[1]), "ntrex"
    elif args.items and args.pairs:
        try:
            items, pairs = read_jsonl(args.items), read_jsonl(args.pairs)
        except (OSError, ValueError) as exc:
            print(f"cannot read the evaluation set: {exc}", file=sys.stderr)
            return 2
    else:
        print("give --items and --pairs, or --ntrex DIR", file=sys.stderr)
        return 2
    try:
        report = evaluate(items, pairs, settings, split=split, truth=truth)
    except ValueError as exc:
        print(f"invalid evaluation set: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_full(report))
        errors = report["errors"]
        if split is not None and args.errors_from != "all":
            keep = {(p["a"], p["b"]) for p in pairs if (str(p["a"]) in split[args.errors_from])
                    and (str(p["b"]) in split[args.errors_from] or args.errors_from == "holdout")}
            errors = [e for e in errors if (e["a"], e["b"]) in keep]
        for err in errors[: args.show_errors]:
            print(f"  wrong: {err['a']} {err['b']} gold={err['label']} predicted={err['predicted']}")
    missed = targets_met(report, args.profile or profile)
    if args.check and missed:
        print("targets missed: " + "; ".join(missed), file=sys.stderr)
        return 1
    return 0


def register_eval(sub: argparse._SubParsersAction) -> None:
    """``newsflow eval dedup``: precision/recall/F1 of the real dedup on labelled pairs."""
    e = sub.add_parser("dedup", help="precision, recall and F1 of dedup on labelled pairs")
    e.add_argument("--items", help="JSONL: id, url, language, title, published, text")
    e.add_argument("--pairs", help="JSONL: a, b, label (republication|translation|related|unrelated)")
    e.add_argument("--ntrex", metavar="DIR", help="build items and pairs from an ntrex-dev folder instead")
    e.add_argument("--json", action="store_true", help="print the full report as JSON")
    e.add_argument("--split", metavar="FILE", help="tuning/held-out split (JSON: tune, holdout ids); "
                   "'default' is the packaged split of corpora/republished; prints both halves")
    e.add_argument("--errors-from", choices=("tune", "holdout", "all"), default="tune",
                   help="with --split, list wrong pairs of this half only (default: tune)")
    e.add_argument("--check", action="store_true",
                   help="exit 1 when the set's gates are missed (docs/dedup.md, 'Gates')")
    e.add_argument("--profile", choices=("synthetic", "real", "ntrex"),
                   help="which gates --check applies (default: ntrex with --ntrex, real with --split, "
                   "else synthetic)")
    e.add_argument("--show-errors", type=int, default=20, metavar="N", help="list up to N wrong pairs")
    e.set_defaults(func=cmd_eval)
