"""Warehouse benchmark: load N synthetic articles into each backend, then search.

Prints, per backend, first the warehouse rows alone (issue 15 point 3: articles, dedup
assignments and edges, related lists, through the load's own statements without the search
index, beside a plain COPY / Arrow insert of the same rows; ``--rows-only`` stops there).
Then: load rows/s end to end through ``load_warehouse`` (upsert + ledger, one transaction
per lake batch, the dedup generation, then the search index: analysis on every core and
the tantivy commit), with the index step's own time, against a plain bulk load of the same
rows measured in the same run (COPY on PostgreSQL, an Arrow insert on DuckDB; no keys, no
search); a rerun of the load (ledger: nothing to do); search latency p50/p95 in the engine
alone and through ``newsflow search``'s path (engine + warehouse rows for titles and
snippets) over mixed Arabic and English queries (plain, filtered, story-expanded); disk:
warehouse + index beside the raw text size (UTF-8 bytes of titles and bodies).

    .venv/bin/python bench/warehouse_bench.py                      # 200,000 articles, 1,000 queries
    .venv/bin/python bench/warehouse_bench.py --n 50000 --backends duckdb
    .venv/bin/python bench/warehouse_bench.py --n 50000 --backends postgres --pg-tsvector  # the optional tsvector column on
    .venv/bin/python bench/warehouse_bench.py --engine-only --n 1000000   # search latency at 1M (not in make test)

``--engine-only`` skips the warehouse: it analyses and indexes N articles straight into an
index (the load's own code), then measures the engine's latency and size.

Articles are synthetic: Zipf-distributed words from made-up vocabularies (a few real
words on top), so term frequencies look like text without copying any text.  PostgreSQL:
``NEWSFLOW_TEST_POSTGRES`` (default postgresql://postgres@127.0.0.1:5432/test), in a
throw-away schema.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.warehouse_synth import AR_WORDS, EN_WORDS, OUTLETS, PG_URL, T0, pg_schema  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.lake.batches import write_batch  # noqa: E402
from pipeline.lake.schema import ARTICLE_SCHEMA, with_version  # noqa: E402
from pipeline.lake.store import open_store  # noqa: E402

EN_SYL = "ka lo mi ra ten sor vel dan pri mon ter gal bis cor fen hal"
AR_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def vocab(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Made-up English-like and Arabic-like words (real ones first, so they are frequent)."""
    syl = EN_SYL.split()
    en = list(EN_WORDS) + ["".join(rng.choice(syl, rng.integers(2, 4))) for _ in range(size)]
    ar = list(AR_WORDS) + ["".join(rng.choice(list(AR_LETTERS), rng.integers(3, 7))) for _ in range(size)]
    return np.array(list(dict.fromkeys(en))), np.array(list(dict.fromkeys(ar)))


def zipf_p(n: int) -> np.ndarray:
    p = 1.0 / (np.arange(n) + 2.7)
    return p / p.sum()


def articles(start: int, n: int, words: dict, rng: np.random.Generator, batch_id: str, body_words: int = 120) -> pa.Table:
    import hashlib

    rows = []
    for i in range(start, start + n):
        lang = "en" if i % 2 == 0 else "ar"
        vocab_, p = words[lang]
        idx = rng.choice(len(vocab_), size=body_words + 8, p=p)
        toks = vocab_[idx]
        domain = OUTLETS[lang][i % 3]
        url = f"https://{domain}/b/{i}"
        aid = hashlib.sha256(url.encode()).hexdigest()[:16]
        when = T0 + timedelta(seconds=97 * i)
        rows.append({
            "article_id": aid, "url": url, "canonical_url": url, "feed_url": f"https://{domain}/feed",
            "source_domain": domain, "guid": str(i), "title": " ".join(toks[:8]), "summary": None,
            "body_text": " ".join(toks[8:]), "language": lang, "language_confidence": 0.99,
            "published_at": when, "published_at_source": "feed", "published_at_flag": None, "fetched_at": when,
            "authors": ["Desk"], "translator": None, "original_outlet": None, "original_domain": None,
            "original_url": None, "attribution_text": None, "image_url": None, "tags": [],
            "content_hash": aid, "anchors": [], "batch_id": batch_id,
        })
    return pa.Table.from_pylist(rows, schema=with_version(ARTICLE_SCHEMA, "articles"))


def stories(table_ids: list[str]) -> list:
    """Every 4th en/ar neighbour pair is a translation story (for --expand queries)."""
    from pipeline.models import DedupAssignment

    out = []
    for k in range(0, len(table_ids) - 1, 8):
        en, ar = table_ids[k], table_ids[k + 1]
        out += [DedupAssignment(en, f"s_{en}", None, None, None), DedupAssignment(ar, f"s_{en}", en, "translation", 0.9)]
    return out


def queries(words: dict, rng: np.random.Generator, n: int) -> list[dict]:
    out = []
    for k in range(n):
        lang = "en" if k % 2 == 0 else "ar"
        vocab_, _ = words[lang]
        # mostly mid-frequency terms (ranks 20..3000), sometimes a very common one
        terms = [vocab_[int(rng.integers(20, min(3000, len(vocab_))))] for _ in range(int(rng.integers(1, 4)))]
        if k % 10 == 0:
            terms.append(vocab_[int(rng.integers(0, 10))])
        kw: dict = {}
        if k % 5 == 1:
            kw["language"] = lang
        if k % 7 == 2:
            kw["since"] = (T0 + timedelta(days=30)).date().isoformat()
        if k % 9 == 3:
            kw["expand"] = True
        out.append({"q": " ".join(terms), **kw})
    return out


def baseline_insert(settings: Settings, table: pa.Table) -> float:
    """Plain bulk load of the same rows (no key, no upsert, no search): seconds.  DuckDB: an
    Arrow insert; PostgreSQL: COPY into a plain table (the backend's staging path)."""
    from pipeline.warehouse.backend import open_backend

    table = table.drop_columns(["anchors"])
    t0 = time.perf_counter()
    with open_backend(settings) as be, be.transaction():
        be.stage("bench_raw", table)
        if be.name == "duckdb":
            be._execute("CREATE TABLE bench_plain AS SELECT * FROM bench_raw")  # bench only
    return time.perf_counter() - t0


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def raw_text_bytes(table: pa.Table) -> int:
    return sum(len((t or "").encode()) + len((b or "").encode())
               for t, b in zip(table["title"].to_pylist(), table["body_text"].to_pylist(), strict=True))


def pct(lat: list[float], q: float) -> float:
    lat = sorted(lat)
    return lat[int(q * (len(lat) - 1))]


def engine_latency(path: Path, qs: list[dict]) -> tuple[list[float], int]:
    """Milliseconds per query in the engine alone (analysis of the query included)."""
    from pipeline.search.analysis import query_words
    from pipeline.search.index import forget_readers, reader
    from pipeline.warehouse.queries import MAX_QUERY_TERMS, _when

    forget_readers()
    engine = reader(path)
    engine.search(query_words(qs[0]["q"], MAX_QUERY_TERMS))  # warm-up
    lat, hits = [], 0
    for q in qs:
        t0 = time.perf_counter()
        words = query_words(q["q"], MAX_QUERY_TERMS)
        found = engine.search(words, language=None if q.get("expand") else q.get("language"),
                              since=None if q.get("expand") else _when(q.get("since"), "since"),
                              limit=50 if q.get("expand") else 10, collapse=bool(q.get("expand")))
        lat.append((time.perf_counter() - t0) * 1000)
        hits += bool(found)
    return lat, hits
def warehouse_rows_load(settings: Settings, tables: list[pa.Table], per_list: int = 5) -> dict:
    """Issue 15 point 3: the load's warehouse rows alone, into a fresh warehouse: per lake
    batch the statements ``loads.load_articles`` runs minus the search documents (Arrow /
    CSV COPY into the staged table, one ``upsert_articles``, the ledger), then one dedup
    generation (``loads.apply_dedup``) and ``per_list`` related rows per article
    (``loads.replace_related``); the same articles again (a reload: identical rows); and a
    plain bulk load of the same article rows beside it.  Rows/s counts every row written."""
    from pipeline.warehouse import loads
    from pipeline.warehouse.backend import open_backend

    run_ts = datetime(2026, 6, 1, tzinfo=UTC)
    ids = [a for t in tables for a in t["article_id"].to_pylist()]
    pairs = stories(ids)
    assignments = pa.table({"article_id": [a.article_id for a in pairs], "story_id": [a.story_id for a in pairs],
                            "duplicate_of": pa.array([a.duplicate_of for a in pairs], pa.string()),
                            "dup_kind": pa.array([a.dup_kind for a in pairs], pa.string()),
                            "dup_score": pa.array([a.dup_score for a in pairs], pa.float64())})
    edges = pa.table({"a": [a.duplicate_of for a in pairs if a.duplicate_of],
                      "b": [a.article_id for a in pairs if a.duplicate_of],
                      "kind": ["translation"] * (len(pairs) // 2), "score": [0.9] * (len(pairs) // 2),
                      "evidence": ["{}"] * (len(pairs) // 2)})
    n = len(ids)
    rng = np.random.default_rng(1)
    owners = np.repeat(np.arange(n), per_list)
    rel = (owners + 1 + rng.integers(0, n - 1, size=len(owners)) // per_list * per_list
           + np.tile(np.arange(per_list), n)) % n
    rel = np.where(rel == owners, (rel + 1) % n, rel)
    id_arr = np.array(ids)
    related = pa.table({"article_id": id_arr[owners], "related_id": id_arr[rel],
                        "rank": pa.array(np.tile(np.arange(1, per_list + 1), n), pa.int32()),
                        "score": pa.array(rng.uniform(0.3, 0.9, len(owners)))})
    related = loads.unique_by(related, ("article_id", "related_id"), "bench related")

    stories_ = loads.story_columns(assignments)

    def articles_pass(be, tag: str) -> float:
        t0 = time.perf_counter()
        for k, t in enumerate(tables):
            t = loads.with_stories(loads.anchors_as_json(loads.unique_by(t, ("article_id",), "article")), stories_)
            with be.transaction():
                be.stage("staged_articles", t, like="articles")
                be.script("upsert_articles")
                be.record_batch("articles", f"{tag}-{k}", t.num_rows, run_ts)
        return time.perf_counter() - t0

    with open_backend(settings) as be:
        be.migrate()
        t_articles = articles_pass(be, "rows")
        t0 = time.perf_counter()
        loads.apply_dedup(be, "g-rows", assignments, edges, run_ts)
        t_dedup = time.perf_counter() - t0
        t0 = time.perf_counter()
        loads.replace_related(be, related)
        t_related = time.perf_counter() - t0
        t_reload = articles_pass(be, "again")
    total_rows = n + assignments.num_rows + edges.num_rows + related.num_rows
    base_s = baseline_insert(settings, pa.concat_tables(tables))
    return {"articles_per_s": n / t_articles, "dedup_rows_per_s": (assignments.num_rows + edges.num_rows) / t_dedup,
            "related_rows_per_s": related.num_rows / t_related, "reload_per_s": n / t_reload,
            "rows_per_s": total_rows / (t_articles + t_dedup + t_related), "rows": total_rows,
            "plain_per_s": n / base_s}


def run_backend(name: str, settings: Settings, lake_batches: list[str], all_rows: pa.Table, qs: list[dict]) -> dict:
    from pipeline.search import sync as search_sync
    from pipeline.warehouse import queries as wq
    from pipeline.warehouse.backend import open_backend
    from pipeline.warehouse.stage import load_warehouse

    index_s = [0.0]
    real_sync = search_sync.sync

    def timed_sync(*a, **kw):
        t0 = time.perf_counter()
        try:
            return real_sync(*a, **kw)
        finally:
            index_s[0] += time.perf_counter() - t0

    search_sync.sync = timed_sync
    run_ts = datetime(2026, 6, 1, tzinfo=UTC)
    try:
        t0 = time.perf_counter()
        report = load_warehouse(settings, run_ts=run_ts)
        load_s = time.perf_counter() - t0
    finally:
        search_sync.sync = real_sync
    assert report.rows_loaded == all_rows.num_rows and report.batches_failed == 0, report
    t0 = time.perf_counter()
    again = load_warehouse(settings, run_ts=run_ts)
    rerun_s = time.perf_counter() - t0
    assert again.rows_loaded == 0
    with open_backend(settings, read_only=True) as be:
        size = be.size_bytes()
    path = search_sync.index_path(settings)
    index_size = dir_size(path)
    eng, _ = engine_latency(path, qs)
    lat, hits = [], 0
    wq.search(settings, qs[0]["q"])  # warm-up (connection, caches)
    for q in qs:
        kw = {k: v for k, v in q.items() if k != "q"}
        t0 = time.perf_counter()
        hits += bool(wq.search(settings, q["q"], limit=10, **kw))
        lat.append((time.perf_counter() - t0) * 1000)
    base_s = baseline_insert(settings, all_rows)  # after the size: it adds a table
    raw = raw_text_bytes(all_rows)
    return {
        "backend": name, "rows": all_rows.num_rows, "load_s": load_s, "rows_per_s": all_rows.num_rows / load_s,
        "index_s": index_s[0], "baseline_rows_per_s": all_rows.num_rows / base_s, "rerun_s": rerun_s,
        "size_mb": size / 1e6, "index_mb": index_size / 1e6, "raw_mb": raw / 1e6,
        "engine_p50_ms": pct(eng, 0.5), "engine_p95_ms": pct(eng, 0.95), "engine_max_ms": max(eng),
        "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95), "max_ms": max(lat),
        "queries": len(qs), "with_hits": hits,
    }


def engine_rows(start: int, n: int, words: dict, rng: np.random.Generator, body_words: int = 120) -> list[dict]:
    """The rows the index takes, drawn like ``articles`` (same vocabularies and Zipf
    weights) but sampled per language in one numpy call: a million in minutes, not an hour."""
    import hashlib

    out: list[dict] = [{} for _ in range(n)]
    for parity, lang in ((0, "en"), (1, "ar")):
        nums = [i for i in range(start, start + n) if i % 2 == parity]
        vocab_, p = words[lang]
        toks = vocab_[rng.choice(len(vocab_), size=(len(nums), body_words + 8), p=p)]
        for i, row in zip(nums, toks, strict=True):
            domain = OUTLETS[lang][i % 3]
            out[i - start] = {
                "article_id": hashlib.sha256(f"https://{domain}/b/{i}".encode()).hexdigest()[:16], "story_id": None,
                "language": lang, "source_domain": domain, "published_s": int(T0.timestamp()) + 97 * i,
                "title": " ".join(row[:8]), "body_text": " ".join(row[8:]),
            }
    return out


def engine_only(n: int, batch: int, words: dict, rng: np.random.Generator, qs: list[dict], root: Path,
                body_words: int = 120) -> dict:
    """Index ``n`` synthetic articles straight into a search index; engine latency and size."""
    from pipeline.search.analysis import analyze_many, make_pool, workers
    from pipeline.search.hits import hit_rows
    from pipeline.search.index import open_writer

    path = root / "engine.search"
    pool = make_pool(workers(0))
    t0 = time.perf_counter()
    raw, gen_s = 0, 0.0
    with open_writer(path) as w:
        for start in range(0, n, batch):
            g0 = time.perf_counter()
            rows = engine_rows(start, min(batch, n - start), words, rng, body_words)
            gen_s += time.perf_counter() - g0
            raw += sum(len(r["title"].encode()) + len(r["body_text"].encode()) for r in rows)
            w.upsert(rows, analyze_many([(r["language"], r["title"], r["body_text"]) for r in rows], pool), hit_rows(rows))
            print(f"  indexed {start + len(rows):,}", end="\r", flush=True)
        w.commit({"engine-only"})
    if pool is not None:
        pool.shutdown()
    index_s = time.perf_counter() - t0 - gen_s
    lat, hits = engine_latency(path, qs)
    return {"rows": n, "index_rows_per_s": n / index_s, "index_mb": dir_size(path) / 1e6, "raw_mb": raw / 1e6,
            "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95), "p99_ms": pct(lat, 0.99), "max_ms": max(lat),
            "queries": len(qs), "with_hits": hits}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000, help="articles to load (default 200,000)")
    ap.add_argument("--batch", type=int, default=10_000, help="articles per lake batch")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--backends", default="duckdb,postgres")
    ap.add_argument("--vocab", type=int, default=20_000)
    ap.add_argument("--body-words", type=int, default=120,
                    help="words per body (120: the issue's figures; real bodies run to about 600 words)")
    ap.add_argument("--pg-tsvector", action="store_true", help="PostgreSQL with the optional native tsvector column")
    ap.add_argument("--engine-only", action="store_true", help="no warehouse: index N articles, measure the engine")
    ap.add_argument("--rows-only", action="store_true", help="only the warehouse-rows load (issue 15 point 3)")
    args = ap.parse_args()
    rng = np.random.default_rng(6)
    en, ar = vocab(rng, args.vocab)
    words = {"en": (en, zipf_p(len(en))), "ar": (ar, zipf_p(len(ar)))}
    root = Path(tempfile.mkdtemp(prefix="nf-wh-bench-"))
    qs = queries(words, np.random.default_rng(7), args.queries)
    if args.engine_only:
        r = engine_only(args.n, args.batch, words, rng, qs, root, args.body_words)
        print(f"engine   {r['rows']:,} articles indexed at {r['index_rows_per_s']:,.0f} rows/s; index {r['index_mb']:.0f} MB "
              f"for {r['raw_mb']:.0f} MB of raw text; engine search over {r['queries']} ar/en queries p50 "
              f"{r['p50_ms']:.2f} ms p95 {r['p95_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms max {r['max_ms']:.1f} ms "
              f"({r['with_hits']} with hits)")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        return 0
    lake = str(root / "lake")
    store = open_store(Settings.load(lake=lake))
    t0 = time.perf_counter()
    tables, batch_ids = [], []
    for b, start in enumerate(range(0, args.n, args.batch)):
        t = articles(start, min(args.batch, args.n - start), words, rng, f"2026-{b:04d}", args.body_words)
        write_batch(store, "articles", f"2026-{b:04d}", t)
        tables.append(t)
        batch_ids.append(f"2026-{b:04d}")
    all_rows = pa.concat_tables(tables)
    from pipeline.lake import dedup_zone

    dedup_zone.write_generation(store, "g-bench", stories(all_rows["article_id"].to_pylist()), [], {})
    print(f"generated {args.n:,} articles in {len(batch_ids)} lake batches in {time.perf_counter() - t0:.1f}s ({root})")
    for name in args.backends.split(","):
        if name == "duckdb":
            w = warehouse_rows_load(Settings.load(lake=lake, warehouse=f"duckdb:///{root / 'rows.duckdb'}"), tables)
        else:
            with pg_schema(PG_URL, prefix="nf_bench_") as schema:
                w = warehouse_rows_load(Settings.load(lake=lake, warehouse=PG_URL, warehouse_schema=schema), tables)
        plain = "COPY" if name == "postgres" else "Arrow insert"
        print(f"{name:8} warehouse rows (no search index): {w['rows']:,} rows at {w['rows_per_s']:,.0f} rows/s "
              f"(articles {w['articles_per_s']:,.0f}/s beside a plain {plain} of the same rows at "
              f"{w['plain_per_s']:,.0f}/s, ratio {w['articles_per_s'] / w['plain_per_s']:.2f}; dedup assignments+edges "
              f"{w['dedup_rows_per_s']:,.0f}/s; related lists {w['related_rows_per_s']:,.0f}/s; "
              f"reloading the same articles {w['reload_per_s']:,.0f}/s)", flush=True)
    if args.rows_only:
        return 0
    results = []
    for name in args.backends.split(","):
        if name == "duckdb":
            results.append(run_backend(name, Settings.load(lake=lake, warehouse=f"duckdb:///{root / 'wh.duckdb'}"),
                                       batch_ids, all_rows, qs))
        else:
            with pg_schema(PG_URL, prefix="nf_bench_") as schema:
                results.append(run_backend(name + ("+tsvector" if args.pg_tsvector else ""),
                                           Settings.load(lake=lake, warehouse=PG_URL, warehouse_schema=schema,
                                                         search_pg_tsvector=args.pg_tsvector,
                                                         search_index=str(root / f"pg-{schema}.search")),
                                           batch_ids, all_rows, qs))
        r = results[-1]
        disk = r["size_mb"] + r["index_mb"]
        print(f"{r['backend']:8} load {r['rows']:,} rows in {r['load_s']:.1f}s = {r['rows_per_s']:,.0f} rows/s end to end "
              f"(warehouse {r['load_s'] - r['index_s']:.1f}s + search index step {r['index_s']:.1f}s = "
              f"{r['rows'] / max(r['index_s'], 1e-9):,.0f} rows/s, its analysis overlapping the warehouse merge; plain bulk load {r['baseline_rows_per_s']:,.0f} rows/s, "
              f"ratio {r['rows_per_s'] / r['baseline_rows_per_s']:.2f}); rerun {r['rerun_s']:.2f}s; "
              f"disk {disk:.0f} MB (warehouse {r['size_mb']:.0f} + index {r['index_mb']:.0f}) = "
              f"{disk / r['raw_mb']:.2f}x the raw text ({r['raw_mb']:.0f} MB); search over {r['queries']} ar/en queries: "
              f"engine p50 {r['engine_p50_ms']:.2f} ms p95 {r['engine_p95_ms']:.2f} ms max {r['engine_max_ms']:.1f} ms; "
              f"with warehouse rows p50 {r['p50_ms']:.1f} ms p95 {r['p95_ms']:.1f} ms max {r['max_ms']:.0f} ms "
              f"({r['with_hits']} with hits)", flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
