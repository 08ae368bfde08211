"""The ``newsflow`` command.  Every subcommand is a thin call into the same stage functions
the Airflow DAGs use; each is documented in README.md (a test checks that)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime

from pipeline.cli_common import article_id_arg, settings_from_args

_settings = settings_from_args
_article_id = article_id_arg


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline.run import run_pass

    run_ts = datetime.now(UTC).replace(microsecond=0)  # the one clock read of a CLI pass
    summary = run_pass(_settings(args), args.feeds, run_ts=run_ts, progress=not args.quiet, force=args.force)
    print(summary.render())
    if summary.problems:
        from pipeline.errors import StageIncomplete

        first = summary.problems[0] + (f" (and {len(summary.problems) - 1} more)" if len(summary.problems) > 1 else "")
        raise StageIncomplete(f"the pass did not finish everything: {first}",
                              "the other batches were stored and loaded; see docs/operations.md")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from pipeline.warehouse.cli import print_hits
    from pipeline.warehouse.queries import SearchError, search

    try:
        hits = search(_settings(args), args.query, language=args.lang, outlet=args.outlet, since=args.since,
                      until=args.until, limit=args.limit, expand=args.expand, collapse=args.collapse)
    except SearchError as exc:
        print(f"newsflow search: {exc}", file=sys.stderr)
        return 2
    print_hits(hits, args.json)
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
    "pipeline.api.cli",
    "pipeline.corrections_cli",
    "pipeline.push_cli",
    "pipeline.backfill_cli",
    "pipeline.takedown",
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


class DefaultsFormatter(argparse.HelpFormatter):
    """``(default: X)`` after an option's help when there is a default worth reading (not for
    flags and unset options, where it would only say False or None)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("%(default)" in text or default in (None, False, argparse.SUPPRESS) or action.nargs == 0
                or not (action.option_strings or action.nargs in ("?", "*"))):
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """Every (sub)command's help shows the defaults (``newsflow X --help``)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)


# Global options: accepted before the subcommand and after it (``newsflow run -v``).
GLOBAL_DEFAULTS = {"config": None, "verbose": False, "quiet": False}


def _add_globals(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The global options on ``parser``; below the top they default to SUPPRESS so a value
    given before the subcommand is not overwritten by the subparser's default."""
    default = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    have = {o for a in parser._actions for o in a.option_strings}
    if "--config" not in have:
        parser.add_argument("--config", default=default(None),
                            help="path to newsflow.toml (else $NEWSFLOW_CONFIG, else ./newsflow.toml)")
    if "--verbose" not in have:
        parser.add_argument("-v", "--verbose", action="store_true", default=default(False),
                            help="INFO logs with counts; the traceback on failure")
    if "--quiet" not in have:
        parser.add_argument("-q", "--quiet", action="store_true", default=default(False),
                            help="no progress bars, no warnings: results and errors only")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in set(action.choices.values()):
                _add_globals(child, top=False)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="newsflow", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("run", help="one full pass: fetch, normalize, lake, dedup, warehouse, related")
    s.add_argument("--feeds", required=True, help="feed registry: YAML or OPML")
    s.add_argument("--force", action="store_true", help="poll every feed, even parked or not yet due ones")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("search", help="full-text search (the search index beside the warehouse)")
    s.add_argument("query", help="query text (BM25; Arabic and English stemming)")
    s.add_argument("--lang", help="only this language")
    s.add_argument("--outlet", help="only this source domain")
    s.add_argument("--limit", type=int, default=10, help="results to show")
    s.add_argument("--since", help="published at or after this ISO date/time (UTC)")
    s.add_argument("--until", help="published before this ISO date/time (UTC)")
    s.add_argument("--expand", action="store_true", help="bring each hit's story: copies and translations")
    s.add_argument("--collapse", action="store_true", help="one hit per story (its best-ranked copy)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_search)

    for module in _command_modules():
        if hasattr(module, "register"):
            module.register(sub)
    s = sub.add_parser("eval", help="evaluations against labelled data")
    esub = s.add_subparsers(dest="eval_command", required=True)
    for module in _command_modules():
        if hasattr(module, "register_eval"):
            module.register_eval(esub)
    _add_globals(p, top=True)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; every failure ends in ONE line on stderr and a documented exit
    code (``pipeline.errors``), the traceback only with ``-v``.  Secrets are redacted from
    every log line and message this process prints (``pipeline.redact``)."""
    from pipeline.redact import install

    install()
    args = build_parser().parse_args(argv)
    for name, value in GLOBAL_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    if args.quiet:  # quiet means quiet: no Python warnings either (errors still print)
        import warnings

        warnings.simplefilter("ignore")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR if args.quiet else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:  # a WARNING per page it finds no text in: newsflow counts those pages itself
        logging.getLogger("trafilatura").setLevel(logging.ERROR)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("newsflow: error: interrupted (committed batches are kept; run again to resume)", file=sys.stderr)
        return 130
    except Exception as exc:
        return report_error(exc, verbose=args.verbose)


def report_error(exc: BaseException, *, verbose: bool) -> int:
    """Print ``newsflow: error: <what> (<hint>)`` (and the traceback with ``-v``); the exit code."""
    import traceback

    from pipeline.errors import describe
    from pipeline.feeds.registry import RegistryError
    from pipeline.redact import redact
    from pipeline.warehouse.queries import WarehouseUnavailable

    if isinstance(exc, RegistryError):
        what, hint, code = str(exc), "check the --feeds file (YAML feeds: [{url: ...}] or OPML)", 2
    elif isinstance(exc, WarehouseUnavailable):
        what, hint, code = str(exc), "run `newsflow run` or `newsflow warehouse load` first", 3
    else:
        what, hint, code = describe(exc)
    if verbose:
        print(redact("".join(traceback.format_exception(exc))), file=sys.stderr, end="")
    line = f"newsflow: error: {what}" + (f" ({hint})" if hint else "")
    print(redact(" ".join(line.split())), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
