"""Compare sentence encoders for translation detection on ``corpora/parallel/ntrex-dev``.

For every encoder and language pair it prints the sentence-alignment share (see
``pipeline.dedup.translation.align``) of true pairs (same document) and of false pairs
(different documents), the doc-vector cosine, and the encoding throughput on this machine.
This is the measurement behind the default encoder routing in ``pipeline.dedup.encoder``.

    .venv/bin/python bench/dedup_encoders.py [--encoders use-m,e5] [--threshold-e5 0.85]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.dedup.align import longest_increasing as _longest_increasing  # noqa: E402
from pipeline.dedup.encoder import get_encoder  # noqa: E402
from pipeline.extract.textnorm import sentences  # noqa: E402

NTREX = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "parallel" / "ntrex-dev"
FILES = {"en": "newstest2019-src.eng.txt", "ar": "newstest2019-ref.arb.txt",
         "fa": "newstest2019-ref.fas.txt", "ckb": "newstest2019-ref.ckb-Arab.txt"}


def load(root: Path) -> dict[tuple[str, str], str]:
    ids = (root / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()
    out: dict[tuple[str, str], str] = {}
    for lang, name in FILES.items():
        lines = (root / name).read_text(encoding="utf-8").splitlines()
        by: dict[str, list[str]] = defaultdict(list)
        for d, line in zip(ids, lines, strict=True):
            by[d].append(line)
        for d, ls in by.items():
            out[(lang, d)] = "\n".join(ls)
    return out


def share(ma: np.ndarray, mb: np.ndarray, thr: float) -> float:
    if not len(ma) or not len(mb):
        return 0.0
    sims = ma @ mb.T
    bj, bi = sims.argmax(1), sims.argmax(0)
    pairs = [(i, int(j), float(sims[i, j])) for i, j in enumerate(bj) if bi[j] == i and sims[i, j] >= thr]
    return len(_longest_increasing(pairs)) / min(len(ma), len(mb))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(NTREX))
    ap.add_argument("--encoders", default="use-m,e5")
    ap.add_argument("--threshold-use-m", type=float, default=0.60)
    ap.add_argument("--threshold-e5", type=float, default=0.86)
    ap.add_argument("--sweep", default="", help="extra sentence thresholds to report, e.g. 0.8,0.85")
    ap.add_argument("--cache", default="", help="folder to keep encoded vectors between runs")
    args = ap.parse_args()
    docs = load(Path(args.root))
    keys = sorted(docs)
    sents = {k: sentences(docs[k]) for k in keys}
    flat = [s for k in keys for s in sents[k]]
    for name in args.encoders.split(","):
        enc = get_encoder(name)
        thr = getattr(args, "threshold_" + name.replace("-", "_"))
        cache = Path(args.cache) / f"{name}.npy" if args.cache else None
        t0 = time.perf_counter()
        if cache and cache.is_file():
            vecs = np.load(cache)
        else:
            vecs = enc.encode(flat)
            if cache:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.save(cache, vecs)
        dt = time.perf_counter() - t0
        print(f"\n== {name}: {len(flat)} sentences in {dt:.1f}s ({len(flat) / dt:.0f}/s), "
              f"sentence cosine threshold {thr}")
        mats, pos = {}, 0
        for k in keys:
            mats[k] = vecs[pos: pos + len(sents[k])]
            pos += len(sents[k])
        ids = sorted({d for _, d in keys})
        for t in [thr] + [float(x) for x in args.sweep.split(",") if x]:
            _table(mats, ids, t)


def _table(mats: dict, ids: list[str], thr: float) -> None:
        print(f" sentence cosine {thr}")
        for l1, l2 in [("en", "ar"), ("en", "fa"), ("en", "ckb"), ("ar", "fa"), ("fa", "ckb"),
                       ("fa", "fa"), ("ckb", "ckb"), ("ar", "ar")]:
            true, false = [], []
            for d1 in ids:
                for d2 in ids:
                    if l1 == l2 and d1 >= d2:
                        continue
                    s = share(mats[(l1, d1)], mats[(l2, d2)], thr)
                    (true if d1 == d2 else false).append(s)
            t = f"true min/med {min(true):.2f}/{statistics.median(true):.2f}" if true else "true -"
            print(f"  {l1}-{l2:4s} {t:28s} false max/p99 {max(false):.2f}/"
                  f"{sorted(false)[int(0.99 * len(false))]:.2f} (n={len(false)})")


if __name__ == "__main__":
    main()
