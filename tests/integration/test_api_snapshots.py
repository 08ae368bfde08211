"""Issue 15: API snapshots built outside the workers, memory-mapped, swapped, collected;
connections spread over ``newsflow serve``'s workers."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pytest

from bench.api_bench import bump_generation, make_warehouse
from bench.procs import children, sockets
from pipeline.api.mapped import MappedSnapshot
from pipeline.api.snapfiles import (
    collect,
    publish,
    read_current,
    refresh,
    snapshot_root,
    write_version,
)
from pipeline.api.snapshot import Snapshot
from pipeline.config import Settings
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def _tables(n: int = 400, seed: int = 5) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Articles with every edge case the selection rules have: stories of 1-4 members in
    mixed languages, a NULL language, NULL dates, lists naming unknown articles, copies whose
    list is their canonical's."""
    rng = random.Random(seed)
    ids = [f"a{i:05d}" for i in range(n)]
    langs = [rng.choice(["en", "ar", "fr", None]) if i % 17 else None for i in range(n)]
    story, dup = [], []
    i = 0
    while i < n:
        size = min(rng.choice([1, 1, 2, 3, 4]), n - i)
        for j in range(size):
            story.append(None if (i % 23 == 5 and size == 1) else f"s{i}")
            dup.append(ids[i] if j else None)
        i += size
    arts = pa.table({
        "article_id": ids, "title": [f"t{i}" if i % 9 else None for i in range(n)], "url": [f"u{i}" for i in range(n)],
        "source_domain": [f"d{i % 4}" for i in range(n)], "language": langs,
        "published_at": [None if i % 13 == 0 else f"2026-01-{1 + i % 28:02d}T00:00:00+00:00" for i in range(n)],
        "story_id": story, "duplicate_of": dup, "dup_kind": ["translation" if d else None for d in dup]})
    owners, rel, score = [], [], []
    for a in ids[::2]:
        for rank, r in enumerate(rng.sample(ids + ["gone1", "gone2"], 12)):
            owners.append(a)
            rel.append(r)
            score.append(round(1 - rank * 0.05 - rng.random() * 0.01, 4))
    lists = pa.table({"article_id": owners, "related_id": rel, "rank": list(range(len(owners))), "score": score})
    aliases = pa.table({"alias": ["old1", "old2", ids[3]], "story_id": [story[0], "nowhere", story[5]]})
    return arts, lists, aliases


@pytest.mark.parametrize("after", [False, True])
def test_the_mapped_snapshot_answers_byte_for_byte_like_the_in_memory_one(tmp_path, after):
    """``after``: built from the version it replaces (whose keys it reuses), with articles,
    stories and aliases added and gone since."""
    arts, lists, aliases = _tables()
    previous = None
    if after:
        old, old_lists, _ = _tables(300, seed=9)
        previous = write_version(tmp_path, "v0", old, old_lists, pa.table({"alias": ["old1", "x"], "story_id": ["a", "b"]}))
        publish(tmp_path, previous)
    ref = Snapshot.build("v1", arts, lists, 0.5, aliases)
    publish(tmp_path, write_version(tmp_path, "v1", arts, lists, aliases, floor=0.5, previous=previous))
    snap = MappedSnapshot.open_current(tmp_path)
    assert snap.version == "v1" and len(snap) == arts.num_rows
    for aid in arts["article_id"].to_pylist():
        for lang in (None, "en", "ar", "fr", "de"):
            for k in (1, 5, 50):
                assert snap.related_json(aid, k, lang) == ref.related_json(aid, k, lang), (aid, lang, k)
        assert snap.related(aid, 10, None) == ref.related(aid, 10, None)
        i, j = snap.pos.get(aid), ref.pos[aid]
        assert snap.item(i) == ref.item(j) and snap.story[i] == ref.story[j] and snap.dup_of[i] == ref.dup_of[j]
    assert snap.related_json("nope", 10, None) is None and "nope" not in snap.pos
    for s in {x for x in arts["story_id"].to_pylist() if x} | {"old1", "old2", "a00003", "unknown"}:
        assert snap.resolve_story(s) == ref.resolve_story(s), s
        if s in ref.members:
            assert snap.story_of(s) == ref.story_of(s)


def test_workers_map_the_files_instead_of_copying_them(tmp_path):
    arts, lists, aliases = _tables(n=6000)
    publish(tmp_path, write_version(tmp_path, "v1", arts, lists, aliases))
    size = sum(p.stat().st_size for p in (tmp_path / read_current(tmp_path)).glob("*.arrow"))
    before = pa.total_allocated_bytes()
    snap = MappedSnapshot.open_current(tmp_path)
    for aid in arts["article_id"].to_pylist()[::50]:
        snap.related_json(aid, 10, None)
    assert size > 1_000_000
    assert pa.total_allocated_bytes() - before < 64_000  # nothing of the tables on Arrow's heap
    maps = Path("/proc/self/maps").read_text()
    assert str(tmp_path / snap.name / "articles.arrow") in maps  # a file mapping, shared via the page cache
    frag = snap.tables["articles"].column("frag").chunk(0)
    assert not frag.buffers()[2].is_mutable  # a read-only view of the mapped file


def test_old_versions_go_once_no_worker_uses_them(tmp_path):
    arts, lists, aliases = _tables(n=50)
    publish(tmp_path, first := write_version(tmp_path, "v1", arts, lists, aliases))
    held = MappedSnapshot.open_current(tmp_path)
    publish(tmp_path, second := write_version(tmp_path, "v2", arts, lists, aliases))
    assert collect(tmp_path) == [] and (tmp_path / first).is_dir()  # a worker still serves v1
    assert held.related_json("a00000", 3, None) is not None
    del held  # its last request ended: the lock goes with it
    assert collect(tmp_path) == [first] and not (tmp_path / first).exists()
    assert read_current(tmp_path) == second and (tmp_path / second).is_dir()


def test_build_swap_and_the_holder_sees_the_new_version(tmp_path):
    import asyncio

    from pipeline.api.app import Holder

    wh = tmp_path / "wh.duckdb"
    make_warehouse(wh, 300)
    settings = Settings.load(warehouse=f"duckdb:///{wh}", lake=str(tmp_path / "lake"), api_snapshot_builder="external",
                             api_cache_seconds=0, warehouse_reader_idle_seconds=0)
    holder = Holder(settings)
    holder._reload()
    assert holder.snapshot is None and holder.error  # external: nothing published yet, nothing built here
    assert refresh(settings) is not None and refresh(settings) is None  # built once; unchanged -> nothing
    holder._reload()
    first = holder.snapshot
    assert first is not None and holder.last_load is not None and len(first) == 300
    bump_generation(wh, "g-next")
    name = refresh(settings)
    assert name is not None and read_current(snapshot_root(settings)) == name
    asyncio.run(holder.current())  # schedules the check; run it directly to wait for it
    holder._reload()
    assert holder.snapshot.name == name and holder.snapshot.version != first.version


class _Server:
    def __init__(self, settings: Settings) -> None:
        import uvicorn

        from pipeline.api.app import create_app

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(400):
            if self.server.started:
                break
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def test_requests_during_swaps_never_fail(tmp_path):
    wh = tmp_path / "wh.duckdb"
    ids = make_warehouse(wh, 500)
    settings = Settings.load(warehouse=f"duckdb:///{wh}", lake=str(tmp_path / "lake"), api_snapshot_builder="external",
                             api_cache_seconds=0, warehouse_reader_idle_seconds=0)
    refresh(settings)
    root = snapshot_root(settings)
    statuses: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def client(url: str) -> None:
        rng = random.Random(threading.get_ident())
        with httpx.Client(base_url=url) as c:
            while not stop.is_set():
                r = c.get(f"/articles/{rng.choice(ids)}/related", params={"k": 5})
                statuses.append(r.status_code)
                versions.add(r.headers.get("etag", ""))

    with _Server(settings) as url:
        threads = [threading.Thread(target=client, args=(url,)) for _ in range(4)]
        for t in threads:
            t.start()
        names = set()
        for n in range(4):
            bump_generation(wh, f"g{n}")
            names.add(refresh(settings))
            collect(root)
            time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert len(names) == 4 and statuses and set(statuses) == {200}, set(statuses)
    assert len(list(root.glob("v-*"))) <= 3  # collected once the server moved on


def test_newsflow_serve_spreads_keep_alive_connections_over_its_workers(tmp_path):
    """32 keep-alive connections opened at once: with one shared socket the first worker to
    wake accepted them all; with a SO_REUSEPORT socket per worker the kernel spreads them."""
    wh = tmp_path / "wh.duckdb"
    ids = make_warehouse(wh, 200)
    port = free_port()
    env = dict(os.environ, NEWSFLOW_WAREHOUSE=f"duckdb:///{wh}", NEWSFLOW_LAKE=str(tmp_path / "lake"),
               PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "serve", "--port", str(port), "--workers", "2"],
                            env=env, cwd=REPO, stderr=subprocess.PIPE, text=True)
    socks: list[socket.socket] = []
    try:
        line = proc.stderr.readline()
        assert json.loads(line)["event"] == "listening", line
        request = f"GET /articles/{ids[0]}/related HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        for s in socks:
            s.sendall(request)
        for s in socks:
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
        counts = [n for pid in children(proc.pid) if (n := sockets(pid, port)["ESTABLISHED"])]
        assert sum(counts) == 32 and len(counts) == 2 and min(counts) >= 4, counts
    finally:
        for s in socks:
            s.close()
        proc.terminate()
        proc.wait(timeout=60)


def test_a_taken_port_is_one_line_with_the_fix(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    env = dict(os.environ, NEWSFLOW_WAREHOUSE=f"duckdb:///{tmp_path / 'wh.duckdb'}", PYTHONPATH=str(REPO))
    try:
        out = subprocess.run([sys.executable, "-m", "pipeline.cli", "serve", "--port", str(taken.getsockname()[1])],
                             env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        taken.close()
    assert out.returncode != 0 and "choose another --port" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_and_empty_warehouses_publish(tmp_path, n):
    arts, lists, aliases = _tables(n=20)
    arts = arts.slice(0, n)
    lists = lists.filter(np.isin(lists["article_id"].to_numpy(zero_copy_only=False), arts["article_id"].to_pylist()))
    publish(tmp_path, write_version(tmp_path, "v", arts, lists, None))
    snap = MappedSnapshot.open_current(tmp_path)
    assert len(snap) == n and snap.related_json("x", 3, None) is None and snap.resolve_story("x") is None


def test_a_worker_that_cannot_start_stops_serve_with_a_failure(capfd):
    from pipeline.api.supervisor import serve

    assert serve(None, "127.0.0.1", 0, 1, app_factory="pipeline.no_such_module:app", build=False) == 1
    assert "a worker failed to start" in capfd.readouterr().err
