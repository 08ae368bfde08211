"""Fingerprints of what extraction makes of every labelled page, to prove a speed-up
changed nothing.

    .venv/bin/python bench/extract_snapshot.py before.json      # on the old code
    .venv/bin/python bench/extract_snapshot.py after.json       # on the new code
    .venv/bin/python bench/extract_snapshot.py --compare before.json after.json

For every page of ``../shared/corpora/html`` that ``newsflow eval extraction`` reads (305),
at its real URL: the sha256 of ``extract_page`` with two passes and with one (every field,
or the reject reason) and of the backfill's whole ``_article`` (normalization, language,
anchors, hashes, fingerprint).  Only hashes are written, never the pages' text.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


def snapshot(corpus: Path) -> dict[str, str]:
    import tempfile

    from pipeline.backfill import _article
    from pipeline.config import Settings
    from pipeline.extract.evaluate import load_cases
    from pipeline.extract.html import extract_page
    from pipeline.models import ExtractError

    tmp = tempfile.mkdtemp()
    settings = Settings.load(lake=f"{tmp}/lake", warehouse=f"duckdb:///{tmp}/wh.duckdb")
    out: dict[str, str] = {}
    for case in load_cases(corpus):
        for passes in (2, 1):
            try:
                out[f"{case.url} passes={passes}"] = _digest(dataclasses.asdict(extract_page(case.html, case.url, passes=passes)))
            except ExtractError as exc:
                out[f"{case.url} passes={passes}"] = "reject:" + exc.reason
        body = case.html if isinstance(case.html, bytes) else case.html.encode()
        out[f"{case.url} article"] = _digest(dataclasses.asdict(_article((body, case.url, datetime(2025, 1, 1, tzinfo=UTC)), settings)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="OUT.json, or two snapshots with --compare")
    ap.add_argument("--compare", action="store_true")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "html"))
    args = ap.parse_args()
    if args.compare:
        a, b = (json.loads(Path(f).read_text()) for f in args.files[:2])
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        print(f"{len(a)} / {len(b)} outputs, {len(differ)} differ" + "".join(f"\n  {k}" for k in differ[:20]))
        return 1 if differ else 0
    Path(args.files[0]).write_text(json.dumps(snapshot(Path(args.corpus)), indent=0, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
