"""Known-item search on real text: ``../shared/corpora/parallel/ntrex-dev`` (30 real news
documents in English, with professional Arabic and Persian translations: 90 articles).

For each document, a seeded draw of three of its words (5+ letters) become one-word
queries, in up to three forms: as written; with the word's form changed (English: singular <-> plural; Arabic: the
proclitics and article changed, e.g. ``المياه`` -> ``لمياه``, ``تحلية`` -> ``لتحلية``); and the
bare Arabic word (proclitics and article removed).  Success: the document is in the top 10;
MRR besides.  Queries are made at run time from the corpus (nothing of it is stored here).

Runs on whatever ``pipeline`` is importable, so the same script measures two versions:

    .venv/bin/python bench/search_known_item.py                         # this checkout
    PYTHONPATH=/tmp/old-checkout .venv/bin/python bench/search_known_item.py   # another one
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSFLOW_SHARED_DIR") or REPO.parent / "shared")
CORPUS = SHARED / "corpora" / "parallel" / "ntrex-dev"
FILES = {"en": "newstest2019-src.eng.txt", "ar": "newstest2019-ref.arb.txt", "fa": "newstest2019-ref.fas.txt"}
ARABIC_WORD = re.compile(r"^[\u0621-\u064a]{5,}$")
CLITICS = ("وال", "بال", "كال", "فال", "لل", "ال", "و", "ف", "ب", "ل", "ك")


def documents() -> list[dict]:
    ids = (CORPUS / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    docs = []
    for lang, name in FILES.items():
        lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
        by_doc: dict[str, list[str]] = {}
        for doc_id, line in zip(ids, lines, strict=True):
            by_doc.setdefault(doc_id, []).append(line)
        for doc_id, body in by_doc.items():
            docs.append({"doc": doc_id, "language": lang, "title": body[0], "body_text": "\n".join(body[1:])})
    return docs


def bare(word: str) -> str:
    for c in CLITICS:
        if word.startswith(c) and len(word) - len(c) >= 4:
            return word[len(c):]
    return word


def variant(word: str, lang: str) -> str:
    if lang == "en":
        return word[:-1] if word.endswith("s") else word + "s"
    if lang == "ar" and ARABIC_WORD.match(word):
        b = bare(word)
        return ("ل" + b) if b != word or not word.startswith("ل") else b
    return word


def queries(docs: list[dict], seed: int = 15) -> list[tuple[str, str, str, str]]:
    """(form, language, query, article_id): three one-word queries per document and form."""
    rng = random.Random(seed)
    out = []
    for d in docs:
        words = [w.strip(".,;:!?\"'()«»،؛؟") for w in (d["title"] + " " + d["body_text"]).split()]
        for w in rng.sample(sorted({w for w in words if len(w) >= 5 and w.isalpha()}), 3):
            out.append(("as written", d["language"], w, d["article_id"]))
            if variant(w, d["language"]) != w:
                out.append(("form changed", d["language"], variant(w, d["language"]), d["article_id"]))
            if d["language"] == "ar" and bare(w) != w:
                out.append(("arabic bare", "ar", bare(w), d["article_id"]))
    return out


def main() -> int:
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}")
        return 1
    import pyarrow as pa

    from pipeline.config import Settings
    from pipeline.lake.batches import write_batch
    from pipeline.lake.schema import ARTICLE_SCHEMA, with_version
    from pipeline.lake.store import open_store
    from pipeline.warehouse.queries import search
    from pipeline.warehouse.stage import load_warehouse

    docs = documents()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i, d in enumerate(docs):
        url = f"https://{d['language']}.example/{d['doc']}"
        d["article_id"] = hashlib.sha256(url.encode()).hexdigest()[:16]
        rows.append({"article_id": d["article_id"], "url": url, "canonical_url": url, "source_domain": f"{d['language']}.example",
                     "title": d["title"], "body_text": d["body_text"], "language": d["language"],
                     "published_at": t0 + timedelta(hours=i), "content_hash": d["article_id"], "batch_id": "ki-1"})
    root = Path(tempfile.mkdtemp(prefix="nf-known-item-"))
    settings = Settings.load(lake=str(root / "lake"), warehouse=f"duckdb:///{root / 'wh.duckdb'}")
    schema = with_version(ARTICLE_SCHEMA, "articles")
    table = pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)
    write_batch(open_store(settings), "articles", "ki-1", table)
    load_warehouse(settings, run_ts=t0)
    stats: dict[tuple[str, str], list[float]] = {}
    for form, lang, q, aid in queries(docs):
        ranked = [h.article_id for h in search(settings, q, limit=10)]
        rr = 1 / (ranked.index(aid) + 1) if aid in ranked else 0.0
        stats.setdefault((form, lang), []).append(rr)
    print(f"known-item search on ntrex-dev ({len(docs)} real articles), code: {sys.modules['pipeline'].__file__}")
    for (form, lang), rrs in sorted(stats.items()):
        print(f"  {lang} {form:13} queries {len(rrs):3}  recall@10 {sum(r > 0 for r in rrs) / len(rrs):.2f}  "
              f"MRR {sum(rrs) / len(rrs):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
