"""API benchmark at scale: /related under 32 clients, during a snapshot publish, per-worker memory.

    .venv/bin/python bench/api_bench.py                        # 1,000,000 articles, 2 workers, c=32
    .venv/bin/python bench/api_bench.py --articles 100000 --duration 10
    .venv/bin/python bench/api_bench.py --code /tmp/old-tree   # the same run against another checkout

Prints: the synthetic warehouse (articles, related rows) and the first snapshot build;
a closed-loop load on ``GET /articles/{id}/related?k=10`` (p50/p90/p99/max, req/s) beside a
trivial ASGI app's req/s served by the same process layout in the same run; how the 32
keep-alive connections spread over the workers; each worker's memory (RSS, PSS, USS from
``/proc/<pid>/smaps_rollup``: the snapshot pages are shared, so PSS/USS are the honest
per-worker cost); then a second load run during which the warehouse changes, so a new
snapshot is built and published mid-run: p99 and the slowest second's req/s before the
change, while the builder runs, and in the 2 seconds around the swap.  With ``--search``
(default) the articles also get bodies drawn like ``bench/warehouse_bench.py``'s, the
search index is built by the pipeline's ``reindex``, and ``GET /search`` runs under the
same 32 clients with that bench's 1,000 Arabic/English queries (target p99 < 50 ms at 1M).

The warehouse is written directly (Arrow inserts into a migrated DuckDB file: articles,
every 4th English/Arabic pair a translation story, 10 related per canonical), not through
the pipeline: at a million articles the pipeline's related build alone takes hours on 2
cores and says nothing about serving.  The response cache is off (``api_cache_entries=0``)
so every request computes its answer.  The load generator shares the machine's cores with
the server (it prints the core count and load average).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procs import alive, children, memory, sockets  # noqa: E402


def make_warehouse(path: Path, n: int, per_list: int = 10, seed: int = 3) -> list[str]:
    """A migrated DuckDB warehouse with ``n`` articles and their related lists; returns the ids."""
    import duckdb

    from pipeline.config import Settings
    from pipeline.warehouse.backend import open_backend

    settings = Settings.load(warehouse=f"duckdb:///{path}", lake=str(path.parent / "lake"))
    with open_backend(settings) as be:
        be.migrate()
    rng = np.random.default_rng(seed)
    ids = [hashlib.blake2b(str(i).encode(), digest_size=8).hexdigest() for i in range(n)]
    lang = np.where(np.arange(n) % 2 == 0, "en", "ar")
    paired = (np.arange(n) % 8) == 1  # the Arabic article after every 4th English one translates it
    dup_of = [ids[i - 1] if paired[i] else None for i in range(n)]
    story = [("s_" + ids[i - 1]) if paired[i] else ("s_" + ids[i]) for i in range(n)]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    domains = [f"outlet{i % 50}.example" for i in range(n)]
    bodies = body_texts(lang, seed)
    arts = pa.table({
        "article_id": ids, "url": [f"https://{d}/a/{i}" for i, d in enumerate(domains)],
        "canonical_url": [f"https://{d}/a/{i}" for i, d in enumerate(domains)], "source_domain": domains,
        "language": pa.array(lang), "title": [f"headline {i} about topic {i % 5000}" for i in range(n)],
        "published_at": pa.array([t0 + timedelta(minutes=3 * i) for i in range(n)], pa.timestamp("us", tz="UTC")),
        "story_id": story, "duplicate_of": dup_of,
        "dup_kind": ["translation" if p else None for p in paired],
        "body_text": bodies, "batch_id": ["bench"] * n,
    })
    canon = np.flatnonzero(~paired)
    c = len(canon)
    owners = np.repeat(canon, per_list)
    step = max(1, (c - 1) // per_list)  # distinct offsets per list, never 0: no repeats, never itself
    offsets = 1 + (rng.integers(0, c, size=(c, 1)) + np.arange(per_list) * step) % (c - 1)
    related = canon[(np.arange(c)[:, None] + offsets).ravel() % c]
    ranks = np.tile(np.arange(1, per_list + 1, dtype=np.int32), len(canon))
    scores = np.sort(rng.uniform(0.3, 0.95, size=(len(canon), per_list)), axis=1)[:, ::-1].ravel()
    ids_arr = np.array(ids)
    lists = pa.table({"article_id": ids_arr[owners], "related_id": ids_arr[related], "rank": ranks,
                      "score": scores.astype(np.float64)})
    con = duckdb.connect(str(path))
    con.register("bench_articles", arts)
    con.register("bench_related", lists)
    con.execute("INSERT INTO articles BY NAME SELECT * FROM bench_articles")  # bench data only
    con.execute("INSERT INTO related_articles BY NAME SELECT * FROM bench_related")
    con.execute("INSERT INTO related_state (singleton, generation, min_score) VALUES (1, 'g0', 0.5)")
    con.execute("INSERT INTO load_ledger (kind, batch_id, rows, loaded_at) VALUES ('articles', 'bench', ?, now())", [n])
    con.close()
    return ids


def _words(seed: int = 6) -> dict:
    """The warehouse bench's made-up English and Arabic vocabularies, Zipf-weighted."""
    from bench.warehouse_bench import vocab, zipf_p

    en, ar = vocab(np.random.default_rng(seed), 20_000)
    return {"en": (en, zipf_p(len(en))), "ar": (ar, zipf_p(len(ar)))}


def body_texts(lang: np.ndarray, seed: int, words_per_body: int = 120) -> list[str]:
    """Bodies drawn like ``bench/warehouse_bench.py``'s (same vocabularies and weights), so
    its query set finds what it finds there; one numpy draw per language."""
    words, rng = _words(), np.random.default_rng(seed + 1)
    out: list[str] = [""] * len(lang)
    for code in ("en", "ar"):
        rows = np.flatnonzero(lang == code)
        vocab_, p = words[code]
        toks = vocab_[rng.choice(len(vocab_), size=(len(rows), words_per_body), p=p)]
        for r, t in zip(rows, toks, strict=True):
            out[r] = " ".join(t)
    return out


def build_search_index(path: Path) -> int:
    """The search index beside the warehouse, built by the pipeline's own ``reindex``."""
    from pipeline.config import Settings
    from pipeline.search.sync import reindex
    from pipeline.warehouse.backend import open_backend

    settings = Settings.load(warehouse=f"duckdb:///{path}", lake=str(path.parent / "lake"))
    with open_backend(settings) as be:
        return reindex(be, settings).rows


def search_paths(n: int) -> list[str]:
    """``GET /search`` paths for the warehouse bench's query set (plain, language- and
    date-filtered Arabic and English queries)."""
    from urllib.parse import urlencode

    from bench.warehouse_bench import queries

    out = []
    for q in queries(_words(), np.random.default_rng(7), n):
        params = {"q": q["q"], "limit": "10"}
        if "language" in q:
            params["lang"] = q["language"]
        if "since" in q:
            params["since"] = q["since"]
        out.append("/search?" + urlencode(params))
    return out


def bump_generation(path: Path, generation: str) -> None:
    """A warehouse change the API must pick up (a new related generation)."""
    from pipeline.config import Settings
    from pipeline.warehouse.backend import open_backend

    settings = Settings.load(warehouse=f"duckdb:///{path}", lake=str(path.parent / "lake"), warehouse_busy_timeout=120)
    with open_backend(settings) as be, be.transaction():
        be._execute("UPDATE related_state SET generation = ? WHERE singleton = 1", [generation])  # bench only


# -- load generator (a separate process: a wrk-like closed loop on bare asyncio streams) ------
async def _load(port: int, paths: list[str], concurrency: int, duration: float, out: str, stop_file: str) -> None:
    from bench.http_load import closed_loop, requests_for

    arr, errors = await closed_loop("127.0.0.1", port, requests_for(paths), concurrency, duration, stop_file)
    np.save(out, arr)
    print(json.dumps({"connection_errors": errors}))


def run_load(port: int, paths_file: Path, concurrency: int, duration: float, out: Path) -> subprocess.Popen:
    """The load generator in its own process, over the request paths in ``paths_file``."""
    Path(str(out) + ".stop").unlink(missing_ok=True)  # an earlier run's, in a reused workdir
    return subprocess.Popen([sys.executable, __file__, "--load-gen", "--port", str(port), "--paths", str(paths_file),
                             "--concurrency", str(concurrency), "--duration", str(duration), "--out", str(out),
                             "--stop-file", str(out) + ".stop"],
                            stdout=subprocess.PIPE, text=True)


def stats(arr: np.ndarray, lo: float = -np.inf, hi: float = np.inf) -> dict:
    sel = arr[(arr[:, 0] >= lo) & (arr[:, 0] < hi)]
    if not len(sel):
        return {"requests": 0}
    lat = np.sort(sel[:, 1]) * 1000
    span = max(sel[:, 0].max() - sel[:, 0].min(), 1e-9)
    secs = np.floor(sel[:, 0] - sel[:, 0].min()).astype(int)
    per_sec = np.bincount(secs)[:-1] if secs.max() >= 1 else np.array([len(sel)])
    return {"requests": len(sel), "errors": int(sel[:, 2].sum()), "rps": len(sel) / span,
            "p50_ms": float(np.percentile(lat, 50)), "p90_ms": float(np.percentile(lat, 90)),
            "p99_ms": float(np.percentile(lat, 99)), "max_ms": float(lat[-1]),
            "slowest_second_rps": int(per_sec.min()) if len(per_sec) else len(sel)}


def line(name: str, s: dict) -> str:
    if not s.get("requests"):
        return f"{name}: no requests"
    return (f"{name}: {s['requests']:,} requests, {s['rps']:,.0f} req/s (slowest second {s['slowest_second_rps']:,}), "
            f"p50 {s['p50_ms']:.1f} ms, p90 {s['p90_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.0f} ms, "
            f"errors {s['errors']}")


def start_server(args: argparse.Namespace, env: dict, port: int, log: Path, trivial: bool = False) -> subprocess.Popen:
    code = Path(args.code).resolve() if args.code and not trivial else ROOT
    if trivial:
        cmd = [sys.executable, __file__, "--trivial-serve", "--port", str(port), "--workers", str(args.workers)]
    else:
        cmd = [sys.executable, "-m", "pipeline.cli", "serve", "--port", str(port), "--workers", str(args.workers)]
    env = dict(env, PYTHONPATH=str(code))
    return subprocess.Popen(cmd, env=env, cwd=str(code), stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_up(port: int, path: str, timeout: float = 900) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server on {port} did not come up")


async def trivial(scope: dict, receive, send) -> None:  # noqa: ANN001 - ASGI
    """The trivial ASGI app: a fixed small JSON body."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")]})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


def trivial_factory():  # noqa: ANN201 - an ASGI callable
    return trivial


def free_port() -> int:
    from tests.conftest import free_port as port

    return port()


def search_run(args: argparse.Namespace, env: dict, work: Path, search_file: Path) -> dict:
    """``GET /search`` under the same load, on a server with the default reader settings
    (the related runs close warehouse readers at once so the bench's writer gets in)."""
    import httpx

    env = {k: v for k, v in env.items() if k != "NEWSFLOW_WAREHOUSE_READER_IDLE_SECONDS"}
    port = free_port()
    server = start_server(args, env, port, work / "search.log")
    try:
        paths = json.loads(search_file.read_text())
        wait_up(port, paths[0])
        found = sum(bool(httpx.get(f"http://127.0.0.1:{port}{q}").raise_for_status().json()["results"])
                    for q in paths[:50])
        print(f"search: {found} of the first 50 queries have hits", flush=True)
        out = work / "search.npy"
        run_load(port, search_file, args.concurrency, args.duration, out).communicate(timeout=args.duration + 120)
        return stats(np.load(out))
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--articles", type=int, default=1_000_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--duration", type=float, default=20.0, help="seconds of the steady load run")
    p.add_argument("--publish-duration", type=float, default=0,
                   help="seconds of the run during which a snapshot is published (0: until 10 s after the swap)")
    p.add_argument("--search", action=argparse.BooleanOptionalAction, default=True,
                   help="also index the articles and load GET /search (issue 15: p99 < 50 ms at 1M)")
    p.add_argument("--queries", type=int, default=1000, help="distinct search queries")
    p.add_argument("--search-only", action="store_true",
                   help="only the GET /search run (alternate with --code for a before/after)")
    p.add_argument("--code", help="serve from this source tree instead (a baseline checkout)")
    p.add_argument("--workdir")
    p.add_argument("--load-gen", action="store_true")
    p.add_argument("--trivial-serve", action="store_true")
    p.add_argument("--port", type=int)
    p.add_argument("--paths")
    p.add_argument("--out")
    p.add_argument("--stop-file")
    args = p.parse_args()
    if args.load_gen:
        import uvloop

        uvloop.install()
        paths = json.loads(Path(args.paths).read_text())
        asyncio.run(_load(args.port, paths, args.concurrency, args.duration, args.out, args.stop_file))
        return
    if args.trivial_serve:
        from pipeline.api.supervisor import serve

        serve(None, "127.0.0.1", args.port, args.workers, app_factory="bench.api_bench:trivial_factory", build=False)
        return
    bench(args)


def bench(args: argparse.Namespace) -> None:
    work = Path(args.workdir or tempfile.mkdtemp(prefix="api-bench-"))
    wh = work / "wh.duckdb"
    print(f"workdir {work}; {os.cpu_count()} cores, shared; load average {os.getloadavg()[0]:.2f}; "
          f"serving from {args.code or ROOT}", flush=True)
    t = time.perf_counter()
    ids_file, paths_file, search_file = work / "ids.json", work / "related_paths.json", work / "search_paths.json"
    if wh.exists() and ids_file.exists():  # --workdir of an earlier run: the same warehouse again
        ids = json.loads(ids_file.read_text())
        print(f"warehouse reused from {wh} ({args.articles:,} articles assumed)", flush=True)
    else:
        ids = make_warehouse(wh, args.articles)
        print(f"warehouse: {args.articles:,} articles, {len(ids) // 8 * 7 * 10:,}~ related rows written in "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        ids = ids[:: max(1, len(ids) // 200_000)]
        ids_file.write_text(json.dumps(ids))
    paths_file.write_text(json.dumps([f"/articles/{a}/related?k=10" for a in ids]))
    env = dict(os.environ, NEWSFLOW_WAREHOUSE=f"duckdb:///{wh}", NEWSFLOW_LAKE=str(work / "lake"),
               NEWSFLOW_API_CACHE_ENTRIES="0", NEWSFLOW_API_CACHE_SECONDS="1",
               NEWSFLOW_WAREHOUSE_READER_IDLE_SECONDS="0")  # readers never keep the bench's writer out
    if args.search and (wh.with_suffix(".search") / "newsflow-index.json").exists() and search_file.exists():
        print("search index reused", flush=True)
    elif args.search:
        t = time.perf_counter()
        docs = build_search_index(wh)
        search_file.write_text(json.dumps(search_paths(args.queries)))
        print(f"search index: {docs:,} documents through `reindex` in {time.perf_counter() - t:.1f} s", flush=True)

    if args.search_only and args.search:
        searched = search_run(args, env, work, search_file)
        print(line(f"search c={args.concurrency}, {args.queries} ar/en queries, serving from {args.code or ROOT}",
                   searched) + f"; load average {os.getloadavg()[0]:.2f}")
        return

    port = free_port()
    t = time.perf_counter()
    server = start_server(args, env, port, work / "serve.log")
    try:
        wait_up(port, f"/articles/{ids[0]}/related")
        for a in ids[:400:3]:  # every worker answers at least once before measuring
            import httpx

            httpx.get(f"http://127.0.0.1:{port}/articles/{a}/related")
        print(f"server up with its first snapshot in {time.perf_counter() - t:.1f} s", flush=True)
        procs = children(server.pid)
        out = work / "steady.npy"
        gen = run_load(port, paths_file, args.concurrency, args.duration, out)
        time.sleep(min(3.0, args.duration / 3))
        spread = {pid: n for pid in procs if (n := sockets(pid, port)["ESTABLISHED"])}
        gen.communicate(timeout=args.duration + 120)
        steady = stats(np.load(out))
        mem = {pid: memory(pid) for pid in procs if alive(pid)}
        roles = {pid: "worker" if sockets(pid, port)["LISTEN"] else "builder" for pid in procs}

        # the publish run: the warehouse changes at 5 s; runs until 10 s after the swap (or a fixed time)
        root = Path(str(wh) + ".api")
        before_name = (root / "CURRENT").read_text().strip() if (root / "CURRENT").exists() else None
        pub_out = work / "publish.npy"
        budget = args.publish_duration or 900
        gen = run_load(port, paths_file, args.concurrency, budget, pub_out)
        time.sleep(5)
        try:
            bump_generation(wh, f"g-{int(time.time())}")
        except BaseException:
            Path(str(pub_out) + ".stop").touch()
            raise
        changed_at = time.time()
        swapped_at, build_peak, polls = None, None, 0
        while gen.poll() is None and time.time() - changed_at < budget:
            polls += 1
            if polls % 20 == 0:  # about once a second: the build process's memory (``--code``: none)
                for pid in children(server.pid):
                    if pid not in procs and alive(pid):
                        with contextlib.suppress(OSError, KeyError):
                            build_peak = max(build_peak or 0.0, memory(pid)["rss"])
            now_name = (root / "CURRENT").read_text().strip() if (root / "CURRENT").exists() else None
            if swapped_at is None and now_name != before_name:
                swapped_at = time.time()
                if not args.publish_duration:
                    break
            time.sleep(0.05)
        if swapped_at is not None and not args.publish_duration:
            time.sleep(10)
        peak = {pid: memory(pid) for pid in procs if alive(pid)}

        Path(str(pub_out) + ".stop").touch()
        gen.communicate(timeout=120)
        pub = np.load(pub_out)
    finally:
        server.terminate()
        server.wait(timeout=60)

    searched = search_run(args, env, work, search_file) if args.search else None

    tport = free_port()
    tserver = start_server(args, env, tport, work / "trivial.log", trivial=True)
    try:
        wait_up(tport, "/")
        tout = work / "trivial.npy"
        gen = run_load(tport, paths_file, args.concurrency, min(args.duration, 10), tout)
        gen.communicate(timeout=200)
        triv = stats(np.load(tout))
    finally:
        tserver.terminate()
        tserver.wait(timeout=60)

    print(line(f"related c={args.concurrency}, {args.workers} workers, {args.articles:,} articles "
               "(target p99 < 10 ms, also while publishing)", steady))
    print(line("trivial ASGI app, same layout", triv) + f"; related/trivial = {steady['rps'] / triv['rps']:.2f}")
    if searched is not None:
        print(line(f"search c={args.concurrency}, {args.queries} ar/en queries (target p99 < 50 ms)", searched))
    print(f"connections per worker (of {args.concurrency}): {sorted(spread.values(), reverse=True)}")
    for pid, m in mem.items():
        print(f"  {roles.get(pid, 'process')} {pid}: RSS {m['rss']:.0f} MB, PSS {m['pss']:.0f} MB, USS {m['uss']:.0f} MB "
              f"(during the publish: RSS {peak.get(pid, m)['rss']:.0f}, USS {peak.get(pid, m)['uss']:.0f})")
    if len(pub):
        end = swapped_at or pub[:, 0].max()
        print(line("  publish run, before the change", stats(pub, hi=changed_at)))
        print(line("  while the new snapshot was built", stats(pub, lo=changed_at, hi=end)))
        if swapped_at:
            print(line("  2 s around the swap", stats(pub, lo=swapped_at - 1, hi=swapped_at + 1)))
            print(line("  after the swap", stats(pub, lo=swapped_at)))
            print(f"  the change was published {swapped_at - changed_at:.1f} s after the warehouse moved")
        if build_peak is not None:
            print(f"  the build process (a child of the builder) peaked at RSS {build_peak:.0f} MB (sampled each second)")
        print(line("  whole publish run", stats(pub)))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
