"""``newsflow related`` and ``newsflow eval related`` (``newsflow serve`` is ``pipeline.api.cli``)."""

from __future__ import annotations

import argparse
import json
import sys

from pipeline.cli_common import article_id_arg, settings_from_args


def cmd_related(args: argparse.Namespace) -> int:
    from pipeline.warehouse.queries import article, related_for

    settings = settings_from_args(args)
    aid = article_id_arg(args.article_id)
    rows = related_for(settings, aid, k=args.k, language=args.lang)
    if rows is None:
        print(f"unknown article {aid}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"article_id": aid, "related": rows}, ensure_ascii=False, indent=1, default=str))
        return 0
    a = article(settings, aid)
    print(f"related to [{a['language']}] {a['title']} ({a['source_domain']})")
    for n, r in enumerate(rows, 1):
        print(f"{n:2}. [{r['language']}] {r['title']}  ({r['source_domain']}, score {r['score']:.3f})")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pipeline.related.evaluate import DEVSET, evaluate

    result = evaluate(args.devset or DEVSET, k=args.k, settings=settings_from_args(args))
    missed = result.missed() if args.check else []
    if args.json:
        print(json.dumps(result.__dict__ | ({"missed": missed} if args.check else {}), indent=1))
    else:
        print(result.render())
        for m in missed:
            print(f"GATE MISSED: {m}")
    return 0 if result.leak_rate == 0 and not missed else 1


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("related", help="related articles of one article")
    s.add_argument("article_id", help="article id, or the article's URL")
    s.add_argument("-k", type=int, default=10, help="how many related articles")
    s.add_argument("--lang", help="reader language (default: the article's)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_related)


def register_eval(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("related", help="nDCG, precision and same-story leaks of related lists on a labelled dev set")
    s.add_argument("--devset", help="labelled dev set YAML (default: the dev set shipped in the package, pipeline/data/related_devset.yaml)")
    s.add_argument("-k", type=int, default=5, help="list length the measures are taken at")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--check", action="store_true",
                   help="exit 1 when nDCG@5 < 0.84 or precision@5 < 0.81 (the gate in docs/related.md)")
    s.set_defaults(func=cmd_eval)
