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
    import uvicorn

    if args.workers > 1:  # each worker process builds its app from the same settings
        if args.config:
            os.environ["NEWSFLOW_CONFIG"] = os.path.abspath(args.config)
        # the supervisor binds the socket before forking, so the line is true once run() starts
        print(listening_line(args.host, args.port, args.workers), file=sys.stderr, flush=True)
        uvicorn.run("pipeline.api.app:create_app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, access_log=False)
        return 0
    from pipeline.api.app import create_app

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:  # noqa: ANN001 - uvicorn's signature
            await super().startup(sockets)
            if self.started:  # bound and serving (a taken port exits before this)
                print(listening_line(args.host, args.port, 1), file=sys.stderr, flush=True)

    config = uvicorn.Config(create_app(settings_from_args(args)), host=args.host, port=args.port,
                            log_level=args.log_level, access_log=False)
    Server(config).run()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="HTTP API for the website (related, stories, search)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind")
    s.add_argument("--port", type=int, default=8000, help="TCP port")
    s.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    s.add_argument("--log-level", default="warning", help="uvicorn's own log level (the access log is always on)")
    s.set_defaults(func=cmd_serve)
