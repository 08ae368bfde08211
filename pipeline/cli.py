"""The ``newsflow`` command.  Every subcommand is a thin call into the same stage functions
the Airflow DAGs use; each is documented in README.md (a test checks that)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime

from pipeline.cli_common import article_id_arg, settings_from_args

_settings = settings_from_args
_article_id = article_id_arg


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.run import run_pass

    run_ts = datetime.now(UTC).replace(microsecond=0)  # the one clock read of a CLI pass
    summary = run_pass(_settings(args), args.feeds, run_ts=run_ts, progress=not args.quiet)
    print(summary.render())
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from pipeline.warehouse.queries import search

    hits = search(_settings(args), args.query, language=args.lang, outlet=args.outlet, limit=args.limit)
    if args.json:
        print(json.dumps([h.__dict__ for h in hits], ensure_ascii=False, default=str, indent=1))
        return 0
    if not hits:
        print("no results")
    for n, h in enumerate(hits, 1):
        print(f"{n:2}. [{h.language}] {h.title}  ({h.source_domain}, {h.published_at:%Y-%m-%d}, score {h.score:.2f})")
        print(f"    {h.article_id}  {h.url}")
        print(f"    {h.snippet}")
    return 0


def cmd_related(args: argparse.Namespace) -> int:
    from pipeline.warehouse.queries import article, related_for

    settings = _settings(args)
    args.article_id = _article_id(args.article_id)
    rows = related_for(settings, args.article_id, k=args.k, language=args.lang)
    if rows is None:
        print(f"unknown article {args.article_id}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"article_id": args.article_id, "related": rows}, ensure_ascii=False, indent=1))
        return 0
    a = article(settings, args.article_id)
    print(f"related to [{a['language']}] {a['title']} ({a['source_domain']})")
    for n, r in enumerate(rows, 1):
        print(f"{n:2}. [{r['language']}] {r['title']}  ({r['source_domain']}, score {r['score']:.3f})")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pipeline.api.app import create_app

    uvicorn.run(create_app(_settings(args)), host=args.host, port=args.port, log_level="info")
    return 0


# Each package owns its subcommands: a module with ``register(sub)`` for top-level groups
# and/or ``register_eval(eval_sub)`` for ``newsflow eval ...``.  Argparse only at import.
COMMAND_MODULES = (
    "pipeline.feeds.cli",
    "pipeline.extract.cli",
    "pipeline.lake.cli",
    "pipeline.dedup.cli",
    "pipeline.warehouse.cli",
    "pipeline.related.cli",
)


def _command_modules() -> list:
    import importlib

    out = []
    for name in COMMAND_MODULES:
        try:
            out.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newsflow", description=__doc__)
    p.add_argument("--config", help="path to newsflow.toml (default: $NEWSFLOW_CONFIG or ./newsflow.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("run", help="one full pass: fetch, normalize, lake, dedup, warehouse, related")
    s.add_argument("--feeds", required=True, help="feed registry: YAML or OPML")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("search", help="full-text search in the warehouse")
    s.add_argument("query")
    s.add_argument("--lang", help="only this language")
    s.add_argument("--outlet", help="only this source domain")
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("related", help="related articles of one article")
    s.add_argument("article_id", help="article id, or the article's URL")
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--lang", help="reader language (default: the article's)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_related)

    s = sub.add_parser("serve", help="HTTP API for the website")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.set_defaults(func=cmd_serve)

    for module in _command_modules():
        if hasattr(module, "register"):
            module.register(sub)
    s = sub.add_parser("eval", help="evaluations against labelled data")
    esub = s.add_subparsers(dest="eval_command", required=True)
    for module in _command_modules():
        if hasattr(module, "register_eval"):
            module.register_eval(esub)
    return p


def main(argv: list[str] | None = None) -> int:
    from pipeline.feeds.registry import RegistryError
    from pipeline.warehouse.queries import WarehouseUnavailable

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except (WarehouseUnavailable, RegistryError, FileNotFoundError) as exc:
        print(f"newsflow: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
