"""``newsflow related``, ``newsflow serve`` and ``newsflow eval related``."""

from __future__ import annotations

import argparse
import json
import os
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


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    if args.workers > 1:  # each worker process builds its app from the same settings
        if args.config:
            os.environ["NEWSFLOW_CONFIG"] = os.path.abspath(args.config)
        uvicorn.run("pipeline.api.app:create_app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, access_log=False)
        return 0
    from pipeline.api.app import create_app

    uvicorn.run(create_app(settings_from_args(args)), host=args.host, port=args.port,
                log_level=args.log_level, access_log=False)
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
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--lang", help="reader language (default: the article's)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_related)

    s = sub.add_parser("serve", help="HTTP API for the website (related, stories, search)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    s.add_argument("--log-level", default="warning")
    s.set_defaults(func=cmd_serve)


def register_eval(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("related", help="nDCG, precision and same-story leaks of related lists on a labelled dev set")
    s.add_argument("--devset", help="labelled dev set YAML (default: tests/fixtures/related/devset.yaml)")
    s.add_argument("-k", type=int, default=5)
    s.add_argument("--json", action="store_true")
    s.add_argument("--check", action="store_true",
                   help="exit 1 when nDCG@5 < 0.84 or precision@5 < 0.81 (the gate in docs/related.md)")
    s.set_defaults(func=cmd_eval)
