"""``newsflow story split|join|corrections``: editors correct dedup from the command line.

The same corrections as the story page's buttons and ``POST /stories/{id}/corrections``
(``pipeline.dedup.corrections.record``).  A correction is stored in the lake at once and
applied by the next dedup run; ``--apply`` runs that dedup, the warehouse load and the
related refresh now, so the story pages show it.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from pipeline.cli_common import article_id_arg, settings_from_args


def _apply(settings) -> None:
    from pipeline.stages import dedup, load_warehouse, refresh_related

    run_ts = datetime.now(UTC)  # the edge's clock: the stages take it as a parameter
    report = dedup(settings)
    load_warehouse(settings, run_ts=run_ts)
    refresh_related(settings, run_ts=run_ts)
    print(f"applied: dedup generation {report.generation_id}, {report.counts.get('stories', 0)} stories")


def cmd_correct(args: argparse.Namespace) -> int:
    from pipeline.dedup.corrections import CorrectionError, record
    from pipeline.lake.store import open_store

    settings = settings_from_args(args)
    target = getattr(args, "story", None)
    if target and target.startswith(("http://", "https://")):
        target = article_id_arg(target)
    try:
        c = record(open_store(settings), args.story_command, article_id_arg(args.article), target,
                   args.by, datetime.now(UTC).isoformat(timespec="seconds"), args.note or "")
    except CorrectionError as exc:
        print(f"newsflow: error: {exc}", file=sys.stderr)
        return 2
    what = "split from its story" if c.action == "split" else f"joined with {', '.join(c.others)}"
    print(f"correction {c.correction_id}: {c.article_id} {what} (by {c.editor}, {c.at})")
    if args.apply:
        _apply(settings)
    else:
        print("it applies at the next dedup run (newsflow run, the DAGs, or add --apply)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from pipeline.lake.corrections import read_all
    from pipeline.lake.store import open_store

    rows = read_all(open_store(settings_from_args(args)))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        print(f"{r['at']}  {r['correction_id']}  {r['action']:5}  {r['article_id']}  "
              f"{','.join(r['others'])}  by {r['editor']}" + (f"  ({r['note']})" if r.get("note") else ""))
    if not rows:
        print("no corrections")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("story", help="editors' corrections of stories: split a copy off, join another story")
    ssub = s.add_subparsers(dest="story_command", required=True)
    sp = ssub.add_parser("split", help="ARTICLE is not a copy: take it out of its story, for good")
    sp.add_argument("article", help="article id or URL")
    j = ssub.add_parser("join", help="ARTICLE belongs to STORY (a story id or any article of it), for good")
    j.add_argument("article", help="article id or URL")
    j.add_argument("story", help="story id, or an article id or URL in that story")
    for p in (sp, j):
        p.add_argument("--by", required=True, help="who makes the correction (kept for the audit)")
        p.add_argument("--note", help="why (shown on the story page)")
        p.add_argument("--apply", action="store_true",
                       help="run dedup, the warehouse load and the related refresh now")
        p.set_defaults(func=cmd_correct)
    ls = ssub.add_parser("corrections", help="every correction: who, when, what")
    ls.add_argument("--json", action="store_true", help="as JSON")
    ls.set_defaults(func=cmd_list)
