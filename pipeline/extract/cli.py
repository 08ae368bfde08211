"""``newsflow eval extraction DIR``: body-text quality against ground truth and a baseline."""

from __future__ import annotations

import argparse
import json


def cmd_eval_extraction(args: argparse.Namespace) -> int:
    from pipeline.extract.evaluate import evaluate, load_cases, render, report

    sources = tuple(args.source or ())
    cases = load_cases(args.dir, every=args.every, sources=sources)
    results, spent = evaluate(cases)
    figures = report(results, spent)
    print(json.dumps(figures, indent=1, ensure_ascii=False) if args.json else render(figures))
    if args.fail_below_baseline:
        worse = [k for k, b in figures["by_language"].items() if b["newsflow"]["f1"] < b["baseline"]["f1"] - 1e-3]
        if worse:
            print(f"newsflow below the baseline for: {', '.join(worse)}")
            return 1
    return 0


def register_eval(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("extraction", help="token P/R/F1 of body_text vs ground truth, and plain trafilatura")
    e.add_argument("dir", help="folder holding fundus/ and/or readability/ labelled pages")
    e.add_argument("--every", type=int, default=1, help="score every N-th page of each collection")
    e.add_argument("--source", action="append", choices=["fundus", "readability"], help="only this collection (repeatable)")
    e.add_argument("--json", action="store_true", help="figures as JSON")
    e.add_argument("--fail-below-baseline", action="store_true", help="exit 1 when any language scores below the baseline")
    e.set_defaults(func=cmd_eval_extraction)
