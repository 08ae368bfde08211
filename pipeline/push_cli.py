"""``newsflow push sync|serve|status``: WebSub push ingestion from the command line.

Push is off until the operator gives a public callback base URL (``--callback-base`` or
``NEWSFLOW_PUSH_CALLBACK_BASE``): hubs must be able to reach it.  ``serve`` subscribes the
registry's feeds that advertise a hub, renews leases hourly, answers the hubs on
``/websub/{id}`` and processes pushes on arrival (``pipeline.push_run``).
"""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import UTC, datetime

from pipeline.cli_common import settings_from_args


def _base(args, settings) -> str | None:
    base = args.callback_base or settings.push_callback_base
    if not base:
        print("newsflow: error: push needs a public callback base URL: give --callback-base "
              "or set NEWSFLOW_PUSH_CALLBACK_BASE", file=sys.stderr)
    return base


def _sync(settings, store, feeds_file: str, base: str):
    from pipeline.feeds.push import sync
    from pipeline.feeds.registry import load_feeds

    report = sync(settings, store, load_feeds(feeds_file), base, now=datetime.now(UTC))
    print(f"push: subscribed {len(report.subscribed)}, renewed {len(report.renewed)}, unsubscribed "
          f"{len(report.unsubscribed)}, no hub {len(report.no_hub)}, failed {len(report.failed)}")
    for url, why in sorted(report.failed.items()):
        print(f"  failed: {url}: {why}")
    return report


def cmd_sync(args: argparse.Namespace) -> int:
    from pipeline.lake.store import open_store

    settings = settings_from_args(args)
    base = _base(args, settings)
    if not base:
        return 2
    report = _sync(settings, open_store(settings), args.feeds, base)
    return 1 if report.failed else 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pipeline.feeds.push import PushReceiver
    from pipeline.lake.store import open_store
    from pipeline.push_run import PushProcessor

    settings = settings_from_args(args)
    base = _base(args, settings)
    if not base:
        return 2
    store = open_store(settings)
    processor = PushProcessor(settings, store, window=args.window).start()
    receiver = PushReceiver(settings, store, on_push=processor.on_push)
    stop = threading.Event()

    def keep_in_step() -> None:  # subscribe new feeds, renew leases, every hour
        while not stop.is_set():
            try:
                _sync(settings, store, args.feeds, base)
                receiver.reload()
            except Exception as exc:  # the receiver keeps serving; polling is the safety net
                print(f"push: sync failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            stop.wait(args.sync_every)

    threading.Thread(target=keep_in_step, daemon=True).start()
    print(f"push: listening on http://{args.host}:{args.port}/websub/ (public: {base.rstrip('/')}/websub/)")
    try:
        uvicorn.run(receiver.app(), host=args.host, port=args.port, log_level="warning")
    finally:
        stop.set()
        processor.stop()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from pipeline.feeds.websub import load_all
    from pipeline.lake.store import open_store

    subs = load_all(open_store(settings_from_args(args)))
    for s in sorted(subs, key=lambda s: s.feed_url):
        print(f"{s.state:13} {s.feed_url}  hub {s.hub}  expires {s.expires_at or '-'}  pushes {s.pushes}  "
              f"refused {s.rejected}  last push {s.last_push_at or '-'}")
    if not subs:
        print("no WebSub subscriptions (newsflow push sync subscribes feeds that advertise a hub)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("push", help="WebSub push ingestion: subscribe to hubs, receive pushes")
    psub = s.add_subparsers(dest="push_command", required=True)
    for name, fn, help_ in (("sync", cmd_sync, "subscribe feeds that advertise a hub, renew leases, "
                             "unsubscribe removed feeds"),
                            ("serve", cmd_serve, "answer hubs and process pushes on arrival (also syncs hourly)")):
        p = psub.add_parser(name, help=help_)
        p.add_argument("--feeds", required=True, help="feed registry: YAML or OPML")
        p.add_argument("--callback-base", help="public base URL hubs reach us at "
                       "(default: $NEWSFLOW_PUSH_CALLBACK_BASE)")
        p.set_defaults(func=fn)
        if name == "serve":
            p.add_argument("--host", default="127.0.0.1", help="listen address (default: 127.0.0.1)")
            p.add_argument("--port", type=int, default=8081, help="listen port (default: 8081)")
            p.add_argument("--window", type=float, default=1.0,
                           help="seconds to gather pushes into one batch (default: 1.0)")
            p.add_argument("--sync-every", type=float, default=3600.0,
                           help="seconds between subscription syncs (default: 3600)")
    st = psub.add_parser("status", help="every subscription: state, lease, pushes, refused pushes")
    st.set_defaults(func=cmd_status)
