"""``newsflow takedown URL_OR_ID --reason TEXT [--by WHO]`` and ``newsflow takedown list``.

A takedown removes an article's content from every store and keeps a tombstone so it is
never fetched or stored again (issue 19).  Order matters, and is why a takedown racing
in-flight DAG runs still ends with the article gone:

1. the **tombstone** is written to the lake first: from then on every stage refuses the
   article (feeds cut it from stored feed bodies, ingestion rejects it before fetching its
   page and again at lake write time, loads leave it out inside their transaction);
2. the **lake** is purged (``pipeline.lake.purge``: Delta deletes, older snapshots' files
   holding it, raw bodies, dedup index, related state);
3. the **warehouse** rows and related lists go, with the audit row
   (``pipeline.warehouse.takedown``), then the deleted bytes are scrubbed from its storage;
   the **search index** is rebuilt from the warehouse without the article
   (``pipeline.search.sync``; every later load checks the ``takedowns`` table too), and
   older published index versions are deleted;
4. every stage that was already running when the tombstone appeared purges again when it
   ends (``pipeline.lake.purge.enforce``; the load and the related refresh re-apply the
   warehouse part), so nothing it wrote meanwhile survives.

The request time comes from the CLI boundary (``requested_at``), never from inside.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime

from pipeline.cli_common import settings_from_args
from pipeline.config import Settings
from pipeline.lake import tombstones
from pipeline.lake.purge import purge
from pipeline.lake.store import ObjectStore, open_store
from pipeline.lake.tombstones import Tombstone


class TakedownError(ValueError):
    """A takedown request newsflow cannot act on (one line, with the fix)."""


def _rows_of(store: ObjectStore, article_id: str) -> list[dict]:
    """Every stored version of the article (all batches), identity and title only
    (quarantined batches left out, like every reader)."""
    from pipeline.lake.batches import read_batches

    cols = ["article_id", "url", "canonical_url", "guid", "content_hash", "title", "batch_id"]
    t = read_batches(store, "articles", columns=cols)
    if t is None:
        return []
    return [r for r in t.to_pylist() if r["article_id"] == article_id]


def resolve(store: ObjectStore, target: str) -> tuple[str, list[dict]]:
    """(article_id, stored versions) of a URL or an article id."""
    from pipeline.extract.urls import article_id_for, canonicalize_url

    target = target.strip()
    if target.startswith(("http://", "https://")):
        article_id = article_id_for(canonicalize_url(target))
    else:
        article_id = target
    rows = _rows_of(store, article_id)
    if not rows and not target.startswith(("http://", "https://")):
        raise TakedownError(f"no article {target!r} in the lake; give its URL instead, which also blocks an "
                            "article not fetched yet")
    return article_id, rows


def take_down(settings: Settings, target: str, *, reason: str, by: str, requested_at: datetime,
              store: ObjectStore | None = None) -> Tombstone:
    """Take one article down everywhere (see the module docstring); returns its tombstone."""
    from pipeline.extract.urls import canonicalize_url
    from pipeline.search import sync as search_sync
    from pipeline.warehouse.backend import warehouse_exists
    from pipeline.warehouse.session import with_writer
    from pipeline.warehouse.takedown import apply, scrub

    if not reason.strip():
        raise TakedownError("a takedown needs --reason TEXT (why: a court order, the publisher's request ...)")
    store = store or open_store(settings)
    article_id, rows = resolve(store, target)
    url = rows[-1]["url"] if rows else target
    canonical = rows[-1]["canonical_url"] if rows else canonicalize_url(target)
    urls = {u for r in rows for u in (r.get("url"), r.get("canonical_url")) if u}
    if target.startswith(("http://", "https://")):
        urls.add(target)
    stone = tombstones.write(store, Tombstone(
        article_id=article_id, url=url, canonical_url=canonical, reason=reason.strip(), requested_by=by,
        requested_at=requested_at.astimezone(UTC).isoformat(timespec="seconds"),
        content_hashes=sorted({r["content_hash"] for r in rows if r.get("content_hash")}),
        urls=sorted(urls), guids=sorted({r["guid"] for r in rows if r.get("guid")})))
    titles = [r["title"] for r in rows if r.get("title") and len(r["title"]) >= 24]  # in memory only
    summary: dict[str, object] = {"lake": purge(store, [stone], extra=titles)}
    if warehouse_exists(settings):
        with_writer(settings, lambda be: apply(be, [stone], summary), what="the takedown")
        summary["warehouse"] = scrub(settings)
        index = with_writer(settings, lambda be: search_sync.sync(be, settings), what="the search index")
        summary["search"] = (f"index rebuilt without it (version {index.version}"
                             + (", published; older published versions deleted)" if index.published else ")"))
    else:
        summary["warehouse"] = "no warehouse yet: the first load applies the tombstone"
    tombstones.mark_purged(store, stone, summary)
    return stone


def cmd_takedown(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.target == "list":
        return _list(settings, args.json)
    if not args.reason:
        print("newsflow: error: a takedown needs --reason TEXT (e.g. --reason 'court order 2025/114')",
              file=sys.stderr)
        return 2
    requested_at = datetime.now(UTC).replace(microsecond=0)  # the one clock read: the request time
    try:
        stone = take_down(settings, args.target, reason=args.reason, by=args.by, requested_at=requested_at)
    except TakedownError as exc:
        print(f"newsflow: error: {exc}", file=sys.stderr)
        return 2
    print(f"taken down {stone.article_id} ({stone.canonical_url}) by {stone.requested_by} at {stone.requested_at}: "
          f"{stone.reason}")
    print(json.dumps(stone.purged, indent=1, sort_keys=True))
    return 0


def _list(settings: Settings, as_json: bool) -> int:
    stones = tombstones.read_all(open_store(settings))
    if as_json:
        print(json.dumps([{**json.loads(t.to_json()), "takedown_id": t.takedown_id} for t in stones],
                         ensure_ascii=False, indent=1))
        return 0
    if not stones:
        print("no takedowns")
    for t in stones:
        state = "done" if t.purged else "PENDING (run the takedown again)"
        print(f"{t.requested_at}  {t.takedown_id}  {t.article_id}  {t.canonical_url}  by {t.requested_by}: "
              f"{t.reason}  [{state}]")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("takedown", help="remove an article everywhere and never store it again; or list takedowns")
    s.add_argument("target", metavar="URL_OR_ID", help="the article's URL or article id; the word `list` lists "
                   "every takedown")
    s.add_argument("--reason", help="why (required for a takedown): kept in the tombstone and the audit table")
    s.add_argument("--by", default=os.environ.get("USER") or "cli", help="who requested it (default: $USER)")
    s.add_argument("--json", action="store_true", help="with `list`: print JSON")
    s.set_defaults(func=cmd_takedown)
