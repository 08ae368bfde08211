"""Delta Lake (deltalake) against Apache Iceberg (pyiceberg + SQLite SQL catalog), as used for
the issue-14 choice recorded in docs/lake.md: small-batch commit latency on a local folder
and on an S3-compatible server (moto), concurrent writers on S3, and what maintenance
each library offers.  Needs ``pip install 'pyiceberg[sql-sqlite]'`` (not a dependency).

    python bench/lake_format_compare.py [--commits 20] [--rows 100] [--writers 4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time

import pyarrow as pa

ROWS = 100


def batch(i: int, n: int) -> pa.Table:
    return pa.table({"batch_id": [f"b{i:05d}"] * n, "k": list(range(n)),
                     "body": [f"article text {i}-{j} " * 20 for j in range(n)]})


def delta_target(kind: str, root: str, endpoint: str | None):
    if kind == "local":
        return f"{root}/delta", None
    return f"s3://newsflow-test/cmp-{os.getpid()}-{time.time_ns()}/delta", {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}


def delta_commits(uri: str, opts, commits: int, rows: int, start: int = 0) -> list[float]:
    from deltalake import write_deltalake

    out = []
    for i in range(start, start + commits):
        t = time.perf_counter()
        write_deltalake(uri, batch(i, rows), mode="append", storage_options=opts)
        out.append(time.perf_counter() - t)
    return out


def iceberg_catalog(root: str, endpoint: str | None, warehouse: str):
    from pyiceberg.catalog.sql import SqlCatalog

    props = {"uri": f"sqlite:///{root}/catalog.db", "warehouse": warehouse}
    if endpoint:
        props |= {"s3.endpoint": endpoint, "s3.access-key-id": "testing", "s3.secret-access-key": "testing",
                  "s3.region": "us-east-1"}
    return SqlCatalog("cmp", **props)


def iceberg_commits(root: str, endpoint: str | None, warehouse: str, commits: int, rows: int,
                    create: bool = True, start: int = 0) -> list[float]:
    cat = iceberg_catalog(root, endpoint, warehouse)
    if create:
        cat.create_namespace_if_not_exists("nf")
        cat.create_table_if_not_exists("nf.t", schema=batch(0, 1).schema)
    out = []
    for i in range(start, start + commits):
        t = time.perf_counter()
        cat.load_table("nf.t").append(batch(i, rows))
        out.append(time.perf_counter() - t)
    return out


def _delta_writer(args):
    uri, opts, commits, rows, w = args
    failures = 0
    from deltalake import write_deltalake
    for i in range(commits):
        try:
            write_deltalake(uri, batch(w * 1000 + i, rows), mode="append", storage_options=opts)
        except Exception:  # noqa: BLE001 - counted
            failures += 1
    return failures


def _iceberg_writer(args):
    root, endpoint, warehouse, commits, rows, w = args
    failures = 0
    cat = iceberg_catalog(root, endpoint, warehouse)
    for i in range(commits):
        try:
            cat.load_table("nf.t").append(batch(w * 1000 + i, rows))
        except Exception:  # noqa: BLE001 - counted (CommitFailedException: no retry in pyiceberg)
            failures += 1
    return failures


def ms(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:.0f} ms, p90 {sorted(xs)[int(len(xs) * 0.9) - 1] * 1000:.0f} ms"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=20)
    ap.add_argument("--rows", type=int, default=ROWS)
    ap.add_argument("--writers", type=int, default=4)
    a = ap.parse_args()
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="newsflow-test")
    with tempfile.TemporaryDirectory() as root:
        for where in ("local", "s3"):
            uri, opts = delta_target(where, root, endpoint)
            d = delta_commits(uri, opts, a.commits, a.rows)
            wh = f"file://{root}/ice-{where}" if where == "local" else f"s3://newsflow-test/ice-{time.time_ns()}"
            sub = tempfile.mkdtemp(dir=root)
            ic = iceberg_commits(sub, endpoint if where == "s3" else None, wh, a.commits, a.rows)
            print(f"{where:5} {a.rows}-row commits x{a.commits}: delta {ms(d)} | iceberg {ms(ic)}")
        # concurrent writers on S3
        uri, opts = delta_target("s3", root, endpoint)
        delta_commits(uri, opts, 1, 1)
        ctx = mp.get_context("spawn")
        t = time.perf_counter()
        with ctx.Pool(a.writers) as pool:
            fails = sum(pool.map(_delta_writer, [(uri, opts, a.commits, a.rows, w) for w in range(a.writers)]))
        from deltalake import DeltaTable
        n = DeltaTable(uri, storage_options=opts).to_pyarrow_table().num_rows
        print(f"s3 {a.writers} concurrent writers x{a.commits} commits: delta {fails} failed, "
              f"{n - 1} of {a.writers * a.commits * a.rows} rows committed, {time.perf_counter() - t:.1f} s")
        sub = tempfile.mkdtemp(dir=root)
        wh = f"s3://newsflow-test/ice-conc-{time.time_ns()}"
        iceberg_commits(sub, endpoint, wh, 1, 1)
        t = time.perf_counter()
        with ctx.Pool(a.writers) as pool:
            fails = sum(pool.map(_iceberg_writer, [(sub, endpoint, wh, a.commits, a.rows, w) for w in range(a.writers)]))
        n = iceberg_catalog(sub, endpoint, wh).load_table("nf.t").scan().to_arrow().num_rows
        print(f"s3 {a.writers} concurrent writers x{a.commits} commits: iceberg {fails} failed, "
              f"{n - 1} of {a.writers * a.commits * a.rows} rows committed, {time.perf_counter() - t:.1f} s")
        # maintenance
        from deltalake import DeltaTable
        uri, opts = delta_target("local", root, endpoint)
        dt = DeltaTable(uri)
        t = time.perf_counter()
        m = dt.optimize.compact()
        c = time.perf_counter() - t
        t = time.perf_counter()
        v = dt.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
        print(f"maintenance delta: optimize.compact {m['numFilesRemoved']} -> {m['numFilesAdded']} files in {c * 1000:.0f} ms, "
              f"vacuum removed {len(v)} files in {(time.perf_counter() - t) * 1000:.0f} ms")
        import pyiceberg
        tbl = iceberg_catalog(sub, endpoint, wh).load_table("nf.t")
        has_expire = hasattr(tbl, "maintenance") and hasattr(tbl.maintenance, "expire_snapshots")
        has_compact = any(hasattr(tbl, n) for n in ("rewrite_data_files", "compact"))
        print(f"maintenance iceberg (pyiceberg {pyiceberg.__version__}): expire snapshots "
              f"{'yes' if has_expire else 'no'}, compaction (rewrite data files) {'yes' if has_compact else 'no'}")
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
