"""STAND-IN dedup benchmark: the scaling exponent only, never the headline figure.

The headline (real sentences, the real default encoder chain end to end) is
``bench/dedup_real_bench.py`` (``make bench-dedup-real``); issue 12 point 8 allows a
stand-in encoder only for the scaling exponent.  This one: 25k / 50k / 100k synthetic
articles through the incremental lake stage.

    .venv/bin/python bench/dedup_bench.py [--sizes 25000,50000,100000] [--incremental 1000]

For each size, in a fresh subprocess (so peak RSS is that run's own): generate the corpus
(``bench/dedup_corpus.py``: three languages, planted exact/near copies and translations,
1,000 articles a day), write it to a local lake in article batches of ``--batch``, then
time ``pipeline.dedup.stage.dedup`` from an empty dedup state: index + match + cluster.
For the largest size it then adds ``--incremental`` new articles as one more batch and
times that second ``dedup`` call alone (the 100k known are already indexed in the lake).

Prints wall time, articles/s, peak RSS, planted-copy recall and precision of merges, the
scaling exponent (least-squares slope of log time over log size; linear = 1.0), and the
cost of the real default encoder (USE-m) per sentence on this machine with the projected
time to encode the corpus once — the synthetic corpus uses ``LexiconEncoder`` because
USE-m does not know its invented languages; encoding is per article, done once, and its
vectors are persisted, so it adds a linear term, measured and reported separately.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


STAND_IN_BANNER = (
    "*** STAND-IN BENCHMARK: invented languages and the LexiconEncoder stand-in, not the real encoders.\n"
    "*** Only the SCALING EXPONENT below is meaningful; times, recall and the USE-m projection are not\n"
    "*** headline figures. The headline runs the real encoder chain: bench/dedup_real_bench.py\n"
    "*** (make bench-dedup-real)."
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(n: int, incremental: int, batch: int, workdir: str) -> dict:
    from dedup_corpus import LexiconEncoder, generate

    from pipeline.config import Settings
    from pipeline.dedup.encoder import register_encoder
    from pipeline.dedup.stage import dedup
    from pipeline.lake import dedup_zone
    from pipeline.lake.articles import write_articles
    from pipeline.lake.store import LocalStore

    t0 = time.perf_counter()
    arts, planted, lex = generate(n + incremental)
    gen_s = time.perf_counter() - t0
    enc = LexiconEncoder(lex)
    register_encoder("lexicon", lambda: enc)
    store = LocalStore(Path(workdir) / f"lake-{n}")
    settings = Settings(lake=str(Path(workdir) / f"lake-{n}"), dedup_encoders="lexicon")
    known, new = arts[:n], arts[n:]
    t0 = time.perf_counter()
    for k in range(0, len(known), batch):
        chunk = known[k : k + batch]
        write_articles(store, f"{chunk[0].published_at:%Y%m%dT%H%M%S}Z-{k:07d}", chunk)
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = dedup(settings, store=store)
    full_s = time.perf_counter() - t0
    out = {"n": n, "generate_s": round(gen_s, 1), "write_lake_s": round(write_s, 1),
           "dedup_s": round(full_s, 1), "counts": report.counts, "peak_rss_mb": round(_peak_mb())}
    if incremental:
        write_articles(store, f"{new[0].published_at + timedelta(seconds=1):%Y%m%dT%H%M%S}Z-new", new)
        t0 = time.perf_counter()
        inc = dedup(settings, store=store)
        out["incremental_s"] = round(time.perf_counter() - t0, 1)
        out["incremental_batches"] = inc.batches_matched
        out["known"] = len(dedup_zone.load_known(
            store, dedup_zone.index_batches(store)[:-1]))
        out["peak_rss_mb"] = round(_peak_mb())
    gen = dedup_zone.read_latest(store)
    story = dict(zip(gen.assignments["article_id"].to_pylist(), gen.assignments["story_id"].to_pylist(),
                     strict=True))
    by_kind: dict[str, list[int]] = {}
    for p in planted:
        if p.copy in story and p.original in story:
            by_kind.setdefault(p.kind, []).append(story[p.copy] == story[p.original])
    out["planted_recall"] = {k: round(sum(v) / len(v), 4) for k, v in sorted(by_kind.items())}
    # precision: members of multi-article stories that are not linked to the story by a plant
    origin = {p.copy: p.original for p in planted}
    root = {}
    for a in story:
        r = a
        while r in origin:  # a copy of a copy: follow to the first original
            r = origin[r]
        root[a] = r
    groups: dict[str, set[str]] = {}
    for a, s in story.items():
        groups.setdefault(s, set()).add(a)
    wrong = sum(len(m) - max(list(_roots(m, root).values())) for m in groups.values() if len(m) > 1)
    merged = sum(len(m) for m in groups.values() if len(m) > 1)
    out["merge_precision"] = round(1 - wrong / merged, 4) if merged else 1.0
    return out


def _roots(members: set[str], root: dict[str, str]) -> dict[str, int]:
    c: dict[str, int] = {}
    for m in members:
        c[root[m]] = c.get(root[m], 0) + 1
    return c


def use_m_rate(sample: int = 400) -> float:
    """Sentences per second of the real default encoder on text we wrote (the dev set)."""
    from pipeline.dedup.encoder import get_encoder
    from pipeline.extract.textnorm import sentences

    items = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dedup" / "items.jsonl"
    sents = [s for line in items.read_text(encoding="utf-8").splitlines()
             for s in sentences(json.loads(line)["text"])][:sample]
    enc = get_encoder("use-m")
    enc.encode(sents[:8])
    t0 = time.perf_counter()
    enc.encode(sents)
    return len(sents) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="25000,50000,100000")
    ap.add_argument("--incremental", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", default="")
    ap.add_argument("--no-use-m", action="store_true", help="skip the USE-m cost measurement")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.incremental, args.batch, args.workdir)))
        return
    sizes = [int(x) for x in args.sizes.split(",")]
    print(STAND_IN_BANNER, flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        for n in sizes:
            inc = args.incremental if n == max(sizes) else 0
            cmd = [sys.executable, __file__, "--one", str(n), "--incremental", str(inc),
                   "--batch", str(args.batch), "--workdir", args.workdir or tmp]
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            results.append(res)
            print(f"[stand-in] {n:>7d} articles: dedup {res['dedup_s']:7.1f} s ({n / res['dedup_s']:6.0f}/s), "
                  f"peak RSS {res['peak_rss_mb']} MB, recall {res['planted_recall']}, "
                  f"merge precision {res['merge_precision']}, stories {res['counts'].get('stories')}", flush=True)
            if inc:
                print(f"         incremental (stand-in): {inc} new vs {res['known']} known (whole history, "
                      f"no window): {res['incremental_s']} s", flush=True)
    if len(results) >= 2:
        xs = [math.log(r["n"]) for r in results]
        ys = [math.log(r["dedup_s"]) for r in results]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
        print(f"scaling exponent (log time / log size): {slope:.3f}  (linear = 1.0, target < 1.2; "
              "stand-in encoder)")
    if not args.no_use_m:
        rate = use_m_rate()
        n = max(sizes)
        print(f"[stand-in projection, not a measurement] USE-m on this machine: {rate:.0f} sentences/s; "
              f"encoding {n} articles of ~8 sentences once "
              f"would take ~{n * 8 / rate / 60:.0f} min (linear, persisted, never repeated); "
              f"a {args.incremental}-article batch ~{args.incremental * 8 / rate:.0f} s")


if __name__ == "__main__":
    main()
