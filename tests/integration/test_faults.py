"""Fault injection with real processes (issue 13): lose nothing, fail clearly.

Every case runs the real ``newsflow`` command (``python -m pipeline.cli``, this checkout on
PYTHONPATH) against the sample corpus served by the demo server, injects one fault of the
issue's table, then reruns normally and compares the warehouse (articles, stories, links,
related lists) with ONE clean run shared by the module.  Crash points are deterministic
failpoints (``NEWSFLOW_FAILPOINT``, ``pipeline/failpoints.py``): ``kill`` is SIGKILL at a
named moment; ``stop`` freezes the run there so the test can take a service away (close
the object store's port, terminate the database session) and then let it continue.
Cases are independent subprocess pairs and run two at a time.  Every run uses the USE-m
encoder only (``NEWSFLOW_DEDUP_ENCODERS=use-m``): the sample corpus is English and Arabic,
which e5 adds nothing to, and not loading it saves about 6 s per run; the suite checks
convergence, dedup quality has its own tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
import yaml

from bench.warehouse_synth import PG_URL, pg_schema, postgres_available
from pipeline.lake import tables
from pipeline.lake.batches import list_batches
from pipeline.lake.store import LocalStore
from tests.conftest import EXAMPLES, REPO, need

FEEDS = EXAMPLES / "feeds.yaml"
KILL_POINTS = ["after_data_files", "before_commit", "after_commit", "after_feed_state", "mid_dedup",
               "mid_load", "mid_related"]
TIMEOUT = 600


# ----------------------------------------------------------------------------- helpers


def env_for(root: Path, site, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_") or k == "NEWSFLOW_SHARED_DIR"}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "NEWSFLOW_LAKE": str(root / "lake"),
        "NEWSFLOW_WAREHOUSE": f"duckdb:///{root / 'wh.duckdb'}",
        "NEWSFLOW_RESOLVE": site.resolve_setting,
        "NEWSFLOW_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSFLOW_DEDUP_ENCODERS": "use-m",
    })
    env.update(extra)
    return env


def newsflow(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=env, cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=TIMEOUT)


def run(env: dict[str, str], feeds: Path = FEEDS, *extra: str) -> subprocess.CompletedProcess:
    return newsflow(env, "run", "-q", "--feeds", str(feeds), *extra)


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("newsflow: error:")]


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Exit ``code``, exactly one ``newsflow: error:`` line containing ``needles``, no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr[-3000:]
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def _norm(v):
    if isinstance(v, list | tuple):
        return tuple(sorted(_norm(x) for x in v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float):
        return round(v, 6)
    return v


QUERIES = {
    "articles": "SELECT article_id, url, canonical_url, source_domain, language, title, body_text, story_id, "
                "duplicate_of, dup_kind FROM articles ORDER BY article_id",
    "stories": "SELECT story_id, canonical_id, languages, n_copies FROM stories ORDER BY story_id",
    "links": "SELECT a, b, kind FROM article_links ORDER BY a, b, kind",
    "related": "SELECT article_id, related_id, rank FROM related_articles ORDER BY article_id, rank",
}


def _by_membership(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Story ids replaced by the story's smallest member article id.

    A story id follows the first-seen member (issue 12: stable ids), so a history that
    stored the same articles in two batches names the same stories differently; what must
    match a clean run is which articles form each story, its canonical copy and its links.
    """
    members: dict[str, str] = {}
    for row in tables["articles"]:
        if row[7] is not None:
            members[row[7]] = min(members.get(row[7], row[0]), row[0])
    out = dict(tables)
    out["articles"] = sorted(row[:7] + (members.get(row[7]),) + row[8:] for row in tables["articles"])
    out["stories"] = sorted((members.get(row[0], row[0]),) + row[1:] for row in tables["stories"])
    return out


def warehouse_of(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return _by_membership({k: [tuple(_norm(v) for v in row) for row in con.execute(q).fetchall()]
                               for k, q in QUERIES.items()})
    finally:
        con.close()


def pg_warehouse_of(schema: str) -> dict[str, list[tuple]]:
    import psycopg

    with psycopg.connect(PG_URL, options=f"-c search_path={schema}") as conn:
        return _by_membership({k: [tuple(_norm(v) for v in row) for row in conn.execute(q).fetchall()]
                               for k, q in QUERIES.items()})


def assert_same(got: dict, want: dict) -> None:
    for table in QUERIES:
        missing = sorted(set(want[table]) - set(got[table]))[:5]
        extra = sorted(set(got[table]) - set(want[table]))[:5]
        assert got[table] == want[table], f"{table}: {len(got[table])} rows vs {len(want[table])}; " \
                                          f"missing {missing} extra {extra}"


def subset_feeds(root: Path, n: int) -> Path:
    """A registry with the first ``n`` feeds of the sample corpus (two runs -> two batches)."""
    data = yaml.safe_load(FEEDS.read_text(encoding="utf-8"))
    path = root / f"feeds-{n}.yaml"
    path.write_text(yaml.safe_dump({"feeds": data["feeds"][:n]}, allow_unicode=True), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- baseline


@pytest.fixture(scope="module")
def site(demo_site):
    need((EXAMPLES / "sites").is_dir(), "examples/sites not generated")
    return demo_site


@pytest.fixture(scope="module")
def baseline(site, tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    proc = run(env_for(root, site))
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = warehouse_of(root / "wh.duckdb")
    assert len(got["articles"]) == 61 and len(got["stories"]) == 44, {k: len(v) for k, v in got.items()}
    return got


# ----------------------------------------------------------------------------- kill -9


def _kill(point: str, site, root: Path):
    crashed = run(env_for(root, site, NEWSFLOW_FAILPOINT=point))
    rerun = run(env_for(root, site))
    got = warehouse_of(root / "wh.duckdb") if (root / "wh.duckdb").exists() else None
    return crashed, rerun, got


@pytest.fixture(scope="module")
def scenarios(site, baseline, tmp_path_factory):
    """Every DuckDB scenario (subprocess runs only) starts at once on two worker threads:
    the module's wall time is about half the sum of its runs.  Each test waits for its own."""
    pool = ThreadPoolExecutor(max_workers=2)
    jobs = {f"kill:{p}": pool.submit(_kill, p, site, tmp_path_factory.mktemp(f"kill-{p}")) for p in KILL_POINTS}
    for fn in (_truncated_file_is_named_quarantined_and_the_rest_proceeds, _an_open_readonly_shell_never_fails_the_run,
               _disk_full_before_the_commit_loses_nothing):
        jobs[fn.__name__] = pool.submit(fn, site, baseline, tmp_path_factory.mktemp(fn.__name__[1:30]))
    yield jobs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_at_any_point_then_rerun_equals_a_clean_run(scenarios, baseline, point):
    crashed, rerun, got = scenarios[f"kill:{point}"].result()
    assert crashed.returncode == -signal.SIGKILL, f"failpoint {point} not reached: {crashed.stderr[-2000:]}"
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert got is not None
    assert_same(got, baseline)


def _disk_full_before_the_commit_loses_nothing(site, baseline, tmp_path):
    full = run(env_for(tmp_path, site, NEWSFLOW_FAILPOINT="before_commit=enospc"))
    assert_one_line_error(full, 4, "disk full")
    assert not list((tmp_path / "lake" / "state" / "feeds").glob("*.json")), "feed state saved before the commit"
    again = run(env_for(tmp_path, site))
    assert again.returncode == 0, again.stderr[-3000:]
    assert_same(warehouse_of(tmp_path / "wh.duckdb"), baseline)


# ----------------------------------------------------------------------------- bad stored data


def _truncated_file_is_named_quarantined_and_the_rest_proceeds(site, baseline, tmp_path):
    env = env_for(tmp_path, site)
    assert run(env, subset_feeds(tmp_path, 3)).returncode == 0
    assert run(env).returncode == 0  # a second batch: the other feeds
    store = LocalStore(tmp_path / "lake")
    batches = [b.batch_id for b in list_batches(store, "articles")]
    assert len(batches) == 2
    first_batch = batches[0]
    entry = next(f for f in tables.files(store, "articles") if f["min"] == f["max"] == first_batch)
    victim = tmp_path / "lake" / "tables" / "articles" / entry["path"]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    key = victim.relative_to(tmp_path / "lake").as_posix()

    hit = run(env)  # detects it: one line naming file and batch, exit 4; the pass completed
    line = assert_one_line_error(hit, 4, "quarantined")
    assert "lake: 1 file(s) quarantined now" in hit.stdout
    assert key in hit.stderr and first_batch in hit.stderr
    later = run(env)  # every later run works, and says so
    assert later.returncode == 0, later.stderr[-3000:]
    assert "quarantined before" in later.stdout
    check = newsflow(env, "lake", "check")
    assert check.returncode == 1 and f"BAD  articles batch {first_batch}: {key}: truncated" in check.stdout, \
        check.stdout + line

    # a fresh warehouse loads the other batch; stories stay valid, nothing crashes
    fresh = dict(env, NEWSFLOW_WAREHOUSE=f"duckdb:///{tmp_path / 'fresh.duckdb'}")
    load = newsflow(fresh, "warehouse", "load")
    assert load.returncode == 0, load.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "fresh.duckdb"), read_only=True)
    n, orphans, null_canon = con.execute(
        "SELECT (SELECT count(*) FROM articles), "
        "(SELECT count(*) FROM articles a WHERE a.story_id IS NULL OR NOT EXISTS "
        "  (SELECT 1 FROM stories s WHERE s.story_id = a.story_id)), "
        "(SELECT count(*) FROM stories WHERE canonical_id IS NULL)").fetchone()
    con.close()
    assert 0 < n < 61 and orphans == 0 and null_canon == 0

    # the operator's fix: ingest again with --force; everything is back, equal to a clean run
    plain = run(fresh)  # without --force: conditional requests / not due, nothing re-examined
    assert "articles stored: 0 new" in plain.stdout, plain.stdout
    forced = run(fresh, FEEDS, "--force")
    assert forced.returncode == 0, forced.stderr[-3000:]
    first = forced.stdout.splitlines()[0]
    assert "0 not modified," in first and "0 not due" in first, first  # no 304, nothing skipped: unconditional requests
    assert "(0 already stored)" in forced.stdout  # entries already seen are re-examined
    assert "articles stored: 61 new" in forced.stdout, forced.stdout  # the quarantined batch's too
    assert_same(warehouse_of(tmp_path / "fresh.duckdb"), baseline)


def test_disk_full_before_the_commit_loses_nothing(scenarios):
    scenarios["_disk_full_before_the_commit_loses_nothing"].result()


def test_truncated_file_is_named_quarantined_and_the_rest_proceeds_and_force_restores_it(scenarios):
    scenarios["_truncated_file_is_named_quarantined_and_the_rest_proceeds"].result()


def test_an_open_readonly_shell_never_fails_the_run(scenarios):
    scenarios["_an_open_readonly_shell_never_fails_the_run"].result()


def test_restored_file_is_released_by_lake_check(site, tmp_path):
    env = env_for(tmp_path, site)
    assert run(env, subset_feeds(tmp_path, 2)).returncode == 0
    entry = tables.files(LocalStore(tmp_path / "lake"), "articles")[0]
    victim = tmp_path / "lake" / "tables" / "articles" / entry["path"]
    good = victim.read_bytes()
    victim.write_bytes(b"PAR1 garbage")
    bad = newsflow(env, "lake", "check")
    assert bad.returncode == 1 and "BAD  articles" in bad.stdout
    victim.write_bytes(good)
    ok = newsflow(env, "lake", "check")
    assert ok.returncode == 0 and "released from quarantine" in ok.stdout, ok.stdout


# ----------------------------------------------------------------------------- readers vs writers


def _an_open_readonly_shell_never_fails_the_run(site, baseline, tmp_path):
    env = env_for(tmp_path, site, NEWSFLOW_WAREHOUSE_BUSY_TIMEOUT="2")
    assert run(env, subset_feeds(tmp_path, 3)).returncode == 0
    shell = subprocess.Popen(  # an analyst's `duckdb -readonly` session, in another process
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
         "c.execute('SELECT count(*) FROM articles').fetchall(); print('open', flush=True); sys.stdin.read()",
         str(tmp_path / "wh.duckdb")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert shell.stdout.readline().strip() == "open"
        busy = run(env)
        assert busy.returncode == 0, busy.stderr[-3000:]
        assert "load DEFERRED" in busy.stdout and "Traceback" not in busy.stderr
        assert "articles stored: " in busy.stdout and "articles stored: 0 new" not in busy.stdout
        copy = newsflow(env, "warehouse", "copy", str(tmp_path / "analyst.duckdb"))  # what analysts open
        assert copy.returncode == 0, copy.stderr[-2000:]
        con = duckdb.connect(str(tmp_path / "analyst.duckdb"), read_only=True)
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
        con.close()
    finally:
        shell.communicate("", timeout=30)
    caught_up = run(env)
    assert caught_up.returncode == 0, caught_up.stderr[-3000:]
    assert_same(warehouse_of(tmp_path / "wh.duckdb"), baseline)


# ----------------------------------------------------------------------------- object store


class Gate:
    """A TCP proxy in front of the S3 server that can go down and come back on one port."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.port = _free_port()
        self.up = False
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> Gate:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.up = True
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def down(self) -> None:
        self.up = False
        if self.listener:
            self.listener.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass
            self.conns = []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_env(root: Path, site, endpoint: str, bucket_prefix: str, **extra: str) -> dict[str, str]:
    return env_for(root, site, NEWSFLOW_LAKE=f"s3://newsflow-test/{bucket_prefix}",
                   NEWSFLOW_S3_ENDPOINT_URL=endpoint, NEWSFLOW_S3_MAX_ATTEMPTS="2", NEWSFLOW_S3_TIMEOUT="3",
                   AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", **extra)


def test_object_store_down_is_one_line_and_bounded(site, s3_server, tmp_path):
    port = int(s3_server.rsplit(":", 1)[1])
    gate = Gate(port)  # never started: connection refused
    proc = run(s3_env(tmp_path, site, f"http://127.0.0.1:{gate.port}", "down"))
    assert_one_line_error(proc, 3, "object store", "unreachable")


def test_object_store_lost_mid_run_then_back_converges(site, baseline, s3_server, tmp_path):
    port = int(s3_server.rsplit(":", 1)[1])
    gate = Gate(port).start()
    env = s3_env(tmp_path, site, f"http://127.0.0.1:{gate.port}", "lost")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", "-q", "--feeds", str(FEEDS)],
                            env=dict(env, NEWSFLOW_FAILPOINT="before_commit=stop"), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)  # frozen at the commit
        assert os.WIFSTOPPED(status), "failpoint before_commit not reached"
        gate.down()
        os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    lost = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert_one_line_error(lost, 3, "object store")
    gate = Gate(port)
    gate.port = int(env["NEWSFLOW_S3_ENDPOINT_URL"].rsplit(":", 1)[1])
    gate.start()
    try:
        again = run(env)
        assert again.returncode == 0, again.stderr[-3000:]
    finally:
        gate.down()
    assert_same(warehouse_of(tmp_path / "wh.duckdb"), baseline)


def test_no_credentials_and_no_endpoint_are_one_line(site, s3_server, tmp_path):
    env = s3_env(tmp_path, site, s3_server, "nocreds")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        env.pop(k, None)
    env.update(AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true")
    assert_one_line_error(run(env), 2, "no S3 credentials", "NEWSFLOW_AWS_ACCESS_KEY_ID")
    env = s3_env(tmp_path, site, s3_server, "noendpoint")
    env.pop("NEWSFLOW_S3_ENDPOINT_URL")  # AWS itself: unreachable from here
    env["NEWSFLOW_S3_TIMEOUT"] = "2"
    assert_one_line_error(run(env), 3, "object store", "NEWSFLOW_S3_ENDPOINT_URL")


# ----------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_schema_name():
    need(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
    with pg_schema(prefix="nf_fault_") as schema:
        yield schema


def test_dropped_connection_mid_load_reconnects_and_converges(site, baseline, pg_schema_name, tmp_path):
    import psycopg

    env = env_for(tmp_path, site, NEWSFLOW_WAREHOUSE=PG_URL, NEWSFLOW_WAREHOUSE_SCHEMA=pg_schema_name,
                  NEWSFLOW_FAILPOINT="mid_load=stop")
    # not --quiet: the operator-facing retry warning is what this test reads
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", "--feeds", str(FEEDS)], env=env,
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), "failpoint mid_load not reached"
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE application_name = %s", [f"newsflow-{proc.pid}"]).fetchone()[0]
        assert killed >= 1
        os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert "retrying on a new connection" in err and "Traceback" not in err
    assert_same(pg_warehouse_of(pg_schema_name), baseline)


def test_unreachable_postgres_is_one_line_without_the_password_and_loads_next_time(site, baseline,
                                                                                     pg_schema_name, tmp_path):
    secret = "Pl4nted-PG-pw"
    env = env_for(tmp_path, site, NEWSFLOW_WAREHOUSE=f"postgresql://postgres:{secret}@127.0.0.1:1/test",
                  NEWSFLOW_WAREHOUSE_RETRY_ATTEMPTS="2", NEWSFLOW_WAREHOUSE_RETRY_SECONDS="5")
    procs = [run(env), newsflow(env, "warehouse", "status"), newsflow(env, "warehouse", "migrate")]
    for p in procs:
        assert_one_line_error(p, 3, "cannot reach the warehouse", "postgresql://postgres:***@127.0.0.1:1/test")
        assert secret not in p.stdout + p.stderr
    verbose = newsflow(env, "-v", "warehouse", "migrate")  # the traceback, still without the password
    assert verbose.returncode == 3 and "Traceback" in verbose.stderr and len(error_lines(verbose)) == 1
    assert secret not in verbose.stdout + verbose.stderr
    assert "Traceback" not in procs[0].stderr
    assert "articles stored: 61 new" not in procs[0].stdout  # the run failed before its summary...
    assert list((tmp_path / "lake" / "tables" / "articles" / "_delta_log").glob("*.json"))  # ...but the lake kept the batch
    up = dict(env, NEWSFLOW_WAREHOUSE=PG_URL, NEWSFLOW_WAREHOUSE_SCHEMA=pg_schema_name)
    again = run(up)
    assert again.returncode == 0, again.stderr[-3000:]
    assert_same(pg_warehouse_of(pg_schema_name), baseline)


# ----------------------------------------------------------------------------- common mistakes


@pytest.mark.parametrize("setup,code,needles", [
    ({"NEWSFLOW_FETCH_CONCURRENCY": "abc"}, 2, ["NEWSFLOW_FETCH_CONCURRENCY", "not an integer"]),
    ({"NEWSFLOW_LAKE": "gs://b/x"}, 2, ["NEWSFLOW_LAKE", "gs://", "s3://bucket/prefix"]),
    ({"NEWSFLOW_ALLOW_PRIVATE_NETWORKS": "maybe"}, 2, ["NEWSFLOW_ALLOW_PRIVATE_NETWORKS", "allowed: 1, 0, true"]),
    ({"toml": 'lak = "./x"\n'}, 2, ["unknown newsflow setting 'lak'", "did you mean 'lake'"]),
    ({"toml": "lake = \n"}, 2, ["not valid TOML", "line 1"]),
])
def test_common_mistakes_are_one_line_naming_the_setting(site, tmp_path, setup, code, needles):
    env = env_for(tmp_path, site)
    setup = dict(setup)
    if "toml" in setup:
        (tmp_path / "newsflow.toml").write_text(setup.pop("toml"), encoding="utf-8")
        env["NEWSFLOW_CONFIG"] = str(tmp_path / "newsflow.toml")
    env.update(setup)
    proc = newsflow(env, "run", "-q", "--feeds", str(FEEDS), cwd=tmp_path)
    assert_one_line_error(proc, code, *needles)
    assert not (tmp_path / "gs:").exists()  # the gs:// lake no longer makes a local folder


def test_verbose_shows_the_traceback(site, tmp_path):
    proc = newsflow(env_for(tmp_path, site, NEWSFLOW_FETCH_CONCURRENCY="abc"), "-v", "run", "--feeds", str(FEEDS))
    assert proc.returncode == 2 and "Traceback" in proc.stderr and len(error_lines(proc)) == 1


def test_usage_errors_exit_2(site, tmp_path):
    proc = newsflow(env_for(tmp_path, site), "run", "--feeds", str(tmp_path / "missing.yaml"))
    assert_one_line_error(proc, 2)
    shutil.rmtree(tmp_path / "lake", ignore_errors=True)
