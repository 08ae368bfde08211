"""``newsflow serve``: the HTTP API on uvicorn.

Here, not in ``pipeline.related``: scoring must not know the front door (the stage order,
``tests/unit/test_layering.py``); the API reads what the related stage wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from pipeline.cli_common import settings_from_args


def listening_line(host: str, port: int, workers: int) -> str:
    """The start-up line operators and supervisors grep for (JSON like the access log)."""
    shown = f"[{host}]" if ":" in host else host
    return json.dumps({"event": "listening", "message": f"listening on http://{shown}:{port}",
                       "workers": workers}, separators=(",", ":"))


def cmd_serve(args: argparse.Namespace) -> int:
    """A supervisor, a snapshot builder and ``--workers`` uvicorn workers, each on its own
    ``SO_REUSEPORT`` socket (``pipeline.api.supervisor``)."""
    from pipeline.api.supervisor import serve

    settings = settings_from_args(args)
    if args.config:  # workers are fresh processes: they read the same file
        os.environ["NEWSFLOW_CONFIG"] = os.path.abspath(args.config)
    return serve(settings, args.host, args.port, max(args.workers, 1), log_level=args.log_level,
                 on_listening=lambda port: print(listening_line(args.host, port, args.workers), file=sys.stderr,
                                                 flush=True))


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="HTTP API for the website (related, stories, search)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind")
    s.add_argument("--port", type=int, default=8000, help="TCP port")
    s.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (each on its own SO_REUSEPORT socket)")
    s.add_argument("--log-level", default="warning", help="uvicorn's own log level (the access log is always on)")
    s.set_defaults(func=cmd_serve)
