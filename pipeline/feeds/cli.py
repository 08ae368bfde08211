"""``newsflow feeds ...`` subcommands and ``newsflow replay``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from pipeline.cli_common import settings_from_args


def cmd_list(args: argparse.Namespace) -> int:
    from pipeline.feeds.registry import load_feeds

    for f in load_feeds(args.feeds):
        print(f"{f.url}\t{f.name or ''}\t{f.language or ''}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from pipeline.feeds.registry import check_feed, load_feeds, merge_feeds, save_feeds

    spec = check_feed(args.url, args.name, args.language)
    existing = load_feeds(args.feeds) if Path(args.feeds).exists() else []
    merged, added = merge_feeds(existing, [spec])
    if not added:
        print(f"{spec.url} is already in {args.feeds}", file=sys.stderr)
        return 1
    save_feeds(args.feeds, merged)
    print(f"added {spec.url} to {args.feeds} ({len(merged)} feeds)")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from pipeline.feeds.registry import load_feeds, merge_feeds, save_feeds

    incoming = load_feeds(args.source)
    existing = load_feeds(args.feeds) if Path(args.feeds).exists() else []
    merged, added = merge_feeds(existing, incoming)
    save_feeds(args.feeds, merged)
    print(f"imported {len(added)} new feeds from {args.source} "
          f"({len(incoming) - len(added)} already present); {args.feeds} has {len(merged)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pipeline.feeds.registry import dump_opml, dump_yaml, load_feeds

    feeds = load_feeds(args.feeds)
    text = dump_opml(feeds) if args.format == "opml" else dump_yaml(feeds)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _ts(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


def cmd_status(args: argparse.Namespace) -> int:
    from pipeline.feeds.registry import load_feeds
    from pipeline.feeds.state import FeedState, iter_states
    from pipeline.lake.store import open_store

    states = {s.url: s for s in iter_states(open_store(settings_from_args(args)))}
    if args.feeds:  # registry feeds never polled yet show as "new"
        for f in load_feeds(args.feeds):
            states.setdefault(f.url, FeedState(url=f.url, name=f.name, language=f.language))
    rank = {"parked": 0, "failing": 1, "new": 2, "ok": 3}
    rows = sorted(states.values(), key=lambda s: (rank[s.health], -s.consecutive_errors, s.url))
    if args.only:
        rows = [s for s in rows if s.health == args.only]
    if args.json:
        print(json.dumps([{**s.__dict__, "health": s.health} for s in rows], default=str, indent=1, ensure_ascii=False))
        return 0
    counts = {h: sum(1 for s in states.values() if s.health == h) for h in rank}
    print(f"{len(states)} feeds: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    print(f"{'health':8} {'status':>6} {'errors':>6} {'last success':16} {'next poll':16} url")
    for s in rows:
        print(f"{s.health:8} {s.last_status or '-':>6} {s.consecutive_errors:>6} "
              f"{_ts(s.last_success_at):16} {_ts(s.next_poll_at):16} {s.url}")
        if s.consecutive_errors and s.last_reason:
            print(f"{'':8} last error: {s.last_reason}: {(s.last_error or '')[:120]}")
        if s.current_url and s.current_url != s.url:
            print(f"{'':8} moved permanently to {s.current_url}")
    parked = [s for s in rows if s.parked]
    if parked:
        print(f"\nparked (not polled until `newsflow feeds unpark URL`): {len(parked)}")
    return 0


def cmd_unpark(args: argparse.Namespace) -> int:
    from pipeline.feeds.schedule import unpark
    from pipeline.feeds.state import load_state, save_state
    from pipeline.lake.store import open_store

    store = open_store(settings_from_args(args))
    state = load_state(store, args.url)
    if state is None:
        print(f"no polling state for {args.url}", file=sys.stderr)
        return 2
    save_state(store, unpark(state))
    print(f"unparked {args.url}: polled again on the next run")
    return 0


def _date(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def cmd_replay(args: argparse.Namespace) -> int:
    from pipeline.run import replay_pass

    run_ts = datetime.now(UTC).replace(microsecond=0)  # the one clock read of a CLI replay
    summary = replay_pass(settings_from_args(args), since=args.since, until=args.until, run_ts=run_ts,
                     progress=not args.quiet)
    print(summary.render())
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("feeds", help="feed registry and feed health")
    fsub = s.add_subparsers(dest="feeds_command", required=True)
    e = fsub.add_parser("list", help="list the feeds of a registry file")
    e.add_argument("--feeds", required=True, help="the registry file (YAML or OPML)")
    e.set_defaults(func=cmd_list)

    e = fsub.add_parser("add", help="add one feed to a registry file (YAML or OPML)")
    e.add_argument("url", help="the feed URL")
    e.add_argument("--feeds", required=True, help="registry file (created when missing)")
    e.add_argument("--name", help="display name")
    e.add_argument("--language", help="ISO 639-1 hint for the language identifier")
    e.set_defaults(func=cmd_add)

    e = fsub.add_parser("import", help="merge the feeds of a YAML/OPML file into a registry")
    e.add_argument("source", help="an OPML or YAML file to import")
    e.add_argument("--feeds", required=True, help="registry file to extend (created when missing)")
    e.set_defaults(func=cmd_import)

    e = fsub.add_parser("export", help="write a registry as OPML or YAML")
    e.add_argument("--feeds", required=True, help="the registry file (YAML or OPML)")
    e.add_argument("--format", choices=("opml", "yaml"), default="opml", help="output format")
    e.add_argument("-o", "--output", help="file to write (default: stdout)")
    e.set_defaults(func=cmd_export)

    e = fsub.add_parser("status", help="feed health from the lake: errors, last success, parked feeds")
    e.add_argument("--feeds", help="also list registry feeds never polled")
    e.add_argument("--only", choices=("ok", "failing", "parked", "new"), help="only feeds in this state")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(func=cmd_status)

    e = fsub.add_parser("unpark", help="poll a parked feed again")
    e.add_argument("url", help="the feed's registry URL")
    e.set_defaults(func=cmd_unpark)

    r = sub.add_parser("replay", help="re-run parsing and later stages from the raw zone (no network)")
    r.add_argument("--since", required=True, type=_date, help="ISO date/time (UTC when no offset)")
    r.add_argument("--until", type=_date, help="exclusive end (default: no end)")
    r.set_defaults(func=cmd_replay)
