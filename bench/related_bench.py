"""Related-articles benchmark: 100,000 articles, the HTTP API under load, incremental refresh.

    .venv/bin/python bench/related_bench.py                  # 100,000 articles, c=32, 30 s
    .venv/bin/python bench/related_bench.py --articles 20000 --duration 10 --concurrency 8

Prints: the initial build (lake, warehouse load, related build), the load test against
``GET /articles/{id}/related`` (throughput, p50/p90/p99/max latency, errors) run by a
separate load-generator process (closed loop; by default a wrk-like client on bare asyncio
streams, then the same run with aiohttp for comparison: the generator shares the 2 cores
with the server, and aiohttp spends about twice the CPU per request), and the refresh after a
batch of 1,000 new articles (plus, for scale, how long USE-m takes to encode 1,000).

The corpus is synthetic (invented words around 5,000 invented topics, 70 % English-like,
30 % Arabic-script), and its document vectors come from a deterministic topic encoder
(topic direction + noise): encoding 100,000 articles with USE-m would take the better part
of an hour on 2 cores and says nothing about the index, the refresh or the API.  The lake
gets no dedup index (``write_labelled(index=False)``), so the related stage embeds every
article itself with that encoder (its path for articles dedup stored no vector for); in
the pipeline it reuses dedup's stored vectors and encodes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EN_SYL = ["ka", "lo", "ri", "men", "tas", "vor", "il", "un", "dra", "pe", "sol", "gan", "ber", "ti", "mo"]
AR_LET = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


class TopicEncoder:
    """Deterministic stand-in for a sentence encoder: topic direction + per-text noise."""

    name = "bench-topic"
    dim = 512

    def __init__(self, topic_of: dict[str, int]) -> None:
        self.topic_of = topic_of
        self.topics = np.random.default_rng(7).standard_normal((6000, self.dim)).astype(np.float32)

    def encode(self, texts):
        out = np.empty((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            noise = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out[i] = self.topics[self.topic_of.get(t, seed % 6000)] + 0.9 * noise
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _word(rng: random.Random, arabic: bool) -> str:
    if arabic:
        return "".join(rng.choice(AR_LET) for _ in range(rng.randint(3, 6)))
    return "".join(rng.choice(EN_SYL) for _ in range(rng.randint(2, 3))).capitalize()


def make_rows(n: int, start: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    vocab = {t: [_word(random.Random(t), False) for _ in range(8)] for t in range(5000)}
    vocab_ar = {t: [_word(random.Random(t + 99991), True) for _ in range(8)] for t in range(5000)}
    rows = []
    for i in range(start, start + n):
        topic = rng.randrange(5000)
        arabic = rng.random() < 0.3
        words = vocab_ar[topic] if arabic else vocab[topic]
        filler = [_word(rng, arabic) for _ in range(40)]
        body = " ".join(rng.choice(words + filler) for _ in range(90)) + f" {rng.randint(10, 9999)}."
        url = f"https://outlet{i % 50}.example/a/{i}"
        rows.append({"id": hashlib.sha256(url.encode()).hexdigest()[:16], "url": url, "topic": str(topic),
                     "story": f"s{i}", "kind": None, "language": "ar" if arabic else "en",
                     "source_domain": f"outlet{i % 50}.example",
                     "published_at": (base + timedelta(minutes=3 * i)).isoformat().replace("+00:00", "Z"),
                     "title": " ".join(rng.choice(words) for _ in range(5)), "body": body})
    return rows


def _topic_map(rows: list[dict]) -> dict[str, int]:
    from pipeline.related.scoring import fallback_text

    # the text the related stage embeds (``write_labelled``'s summary is the body's first 200 chars)
    return {fallback_text(r["title"], r["body"][:200], r["body"]): int(r["topic"]) for r in rows}


def _percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def _summary(lat: list[float], errors: int, elapsed: float) -> dict:
    return {"requests": len(lat), "errors": errors, "seconds": elapsed, "rps": len(lat) / elapsed,
            "p50_ms": 1000 * _percentile(lat, 50), "p90_ms": 1000 * _percentile(lat, 90),
            "p99_ms": 1000 * _percentile(lat, 99), "max_ms": 1000 * max(lat)}


async def _load_aiohttp(url: str, ids: list[str], concurrency: int, duration: float) -> dict:
    """A closed loop over aiohttp: the familiar client, but it spends about a core of
    the 2 on itself at this rate, which the server then lacks."""
    import aiohttp

    lat: list[float] = []
    errors = 0
    stop = time.perf_counter() + duration
    rng = random.Random(1)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                aid = rng.choice(ids)
                t = time.perf_counter()
                try:
                    async with session.get(f"{url}/articles/{aid}/related", params={"k": "10"}) as r:
                        await r.read()
                        if r.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                lat.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return _summary(lat, errors, time.perf_counter() - started)


async def _load_raw(url: str, ids: list[str], concurrency: int, duration: float) -> dict:
    """The wrk-like closed loop of ``bench/http_load.py`` (keep-alive connections on bare
    asyncio streams), so the generator takes as little of the shared 2 cores as it can."""
    from bench.http_load import closed_loop, requests_for

    host, port = url.removeprefix("http://").split(":")
    started = time.perf_counter()
    rows, conn_errors = await closed_loop(host, int(port), requests_for([f"/articles/{a}/related?k=10" for a in ids], host),
                                          concurrency, duration)
    elapsed = time.perf_counter() - started
    return _summary(rows[:, 1].tolist(), int(rows[:, 2].sum()) + conn_errors, elapsed)


def load_generator_main(args: argparse.Namespace) -> None:
    ids = json.loads(Path(args.ids).read_text())
    load = _load_aiohttp if args.client == "aiohttp" else _load_raw
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(load(args.url, ids, args.concurrency, args.duration))))


def run_load(url: str, ids_file: str, concurrency: int, duration: float, client: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--load-gen", "--url", url, "--ids", ids_file, "--client", client,
                          "--concurrency", str(concurrency), "--duration", str(duration)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--articles", type=int, default=100_000)
    p.add_argument("--new", type=int, default=1_000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--also-concurrency", type=int, default=8, help="a second, lighter load run (0: none)")
    p.add_argument("--workdir")
    p.add_argument("--client", choices=["raw", "aiohttp"], default="raw",
                   help="load generator: bare asyncio streams (wrk-like, light) or aiohttp")
    p.add_argument("--also-client", choices=["raw", "aiohttp", "none"], default="aiohttp",
                   help="repeat the main load run with this client, for comparison")
    p.add_argument("--load-gen", action="store_true")
    p.add_argument("--url")
    p.add_argument("--ids")
    args = p.parse_args()
    if args.load_gen:
        load_generator_main(args)
        return

    from pipeline.config import Settings
    from pipeline.lake.store import open_store
    from pipeline.related.evaluate import write_labelled
    from pipeline.stages import load_warehouse, refresh_related
    from tests.conftest import free_port

    work = Path(args.workdir or tempfile.mkdtemp(prefix="related-bench-"))
    settings = Settings.load(lake=str(work / "lake"), warehouse=f"duckdb:///{work / 'wh.duckdb'}")
    store = open_store(settings)
    print(f"workdir {work}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")

    t = time.perf_counter()
    rows = make_rows(args.articles, 0, 1)
    for lo in range(0, len(rows), 20_000):
        write_labelled(store, rows[lo : lo + 20_000], f"20250101T{lo // 20_000:06d}Z-bench", all_rows=rows[: lo + 20_000],
                       index=False)
    print(f"lake: {len(rows)} articles written in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    run_ts = datetime(2025, 6, 1, tzinfo=UTC)
    load_warehouse(settings, run_ts=run_ts, store=store)
    print(f"warehouse load: {time.perf_counter() - t:.1f} s")
    encoder = TopicEncoder(_topic_map(rows))
    t = time.perf_counter()
    build = settings.replace(related_candidates=30, related_ef_search=48)  # the one-off initial build
    rep = refresh_related(build, store=store, encoder=encoder, run_ts=run_ts)
    print(f"initial related build (candidates 30; vectors from the STAND-IN TopicEncoder, not USE-m): "
          f"{rep.canonicals} canonicals, {rep.rows} rows in "
          f"{time.perf_counter() - t:.1f} s  {({k: round(v, 1) for k, v in rep.timings.items()})}")

    ids_file = work / "ids.json"
    ids_file.write_text(json.dumps([r["id"] for r in rows]))
    port = free_port()
    env = dict(os.environ, NEWSFLOW_LAKE=settings.lake, NEWSFLOW_WAREHOUSE=settings.warehouse)
    server_log = open(work / "serve.log", "w")  # the access log: one line per request  # noqa: SIM115
    server = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", "--port", str(port),
                               "--workers", str(args.workers)], env=env, stdout=server_log, stderr=server_log)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/articles/{rows[0]['id']}/related", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not come up")
            time.sleep(0.5)
        for r in rows[:2000:7]:  # warm each worker's snapshot
            httpx.get(f"{url}/articles/{r['id']}/related", params={"k": 10})
        runs = [(args.concurrency, args.client)]
        runs += [(args.concurrency, args.also_client)] if args.also_client not in ("none", args.client) else []
        runs += [(args.also_concurrency, args.client)] if args.also_concurrency else []
        for c, client in runs:
            res = run_load(url, str(ids_file), c, args.duration, client)
            print(f"load c={c} {args.duration:.0f}s ({client} client), {args.workers} server workers, random ids over {len(rows)}: "
                  f"{res['requests']} requests, {res['rps']:.0f} req/s, p50 {res['p50_ms']:.1f} ms, "
                  f"p90 {res['p90_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms, max {res['max_ms']:.1f} ms, "
                  f"errors {res['errors']}  (load average {os.getloadavg()[0]:.2f})")
    finally:
        server.terminate()
        server.wait(timeout=30)
        server_log.close()

    new_rows = make_rows(args.new, args.articles, 2)
    encoder.topic_of.update(_topic_map(new_rows))
    t = time.perf_counter()
    write_labelled(store, new_rows, "20250601T000000Z-bench-new", all_rows=rows + new_rows, index=False)
    t_lake = time.perf_counter() - t
    t = time.perf_counter()
    load_warehouse(settings, run_ts=run_ts, store=store)
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    rep = refresh_related(settings, store=store, encoder=encoder, run_ts=run_ts)
    t_rel = time.perf_counter() - t
    print(f"refresh after {args.new} new articles (vectors from the STAND-IN TopicEncoder, not USE-m): "
          f"related {t_rel:.1f} s "
          f"({rep.new} new lists, {rep.entered} existing lists took a newcomer, {rep.lists_changed} lists written; "
          f"{({k: round(v, 2) for k, v in rep.timings.items()})}); lake write {t_lake:.1f} s, warehouse load {t_load:.1f} s")
    from pipeline.dedup.encoder import get_encoder
    from pipeline.related.scoring import doc_text

    use = get_encoder("use-m")
    t = time.perf_counter()
    use.encode([doc_text(r["title"], r["body"]) for r in new_rows])
    print(f"for scale: USE-m encodes those {args.new} articles in {time.perf_counter() - t:.1f} s "
          "(what a refresh paid before it reused dedup's stored vectors)")


if __name__ == "__main__":
    main()
