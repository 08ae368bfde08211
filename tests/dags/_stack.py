"""A real Airflow 3 deployment on loopback for integration tests (and ``deploy/airflow-up.sh``).

Why a helper: every integration test module needs the same thing, a throwaway metadata
database on the real PostgreSQL, the four long-running components (API server, scheduler,
DAG processor, triggerer) plus optional Celery workers, each in its own process group so
teardown kills whole trees and leaves no stray processes, and fast polling of the metadata
DB instead of sleeping.  Scheduler/processor intervals are shrunk through ``AIRFLOW__``
environment variables so an asset-triggered chain completes in seconds.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from tests.dags._helpers import PYTHON, REPO, airflow_env

AIRFLOW = Path(PYTHON).with_name("airflow")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

SETUP = r"""
import sys, time
t = time.perf_counter()
from airflow.utils import db
db.upgradedb()
from airflow.models.pool import Pool
Pool.create_or_update_pool("newsflow_fetch", int(sys.argv[1]), "newsflow fetching", include_deferred=False)
Pool.create_or_update_pool("newsflow_backfill", 2, "newsflow WARC backfill", include_deferred=False)
print("migrated in %.1fs" % (time.perf_counter() - t))
"""


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except Exception:
        return False


def redis_available(host: str = "127.0.0.1", port: int = 6379) -> bool:
    import socket

    with suppress(OSError), socket.create_connection((host, port), timeout=2) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AirflowStack:
    """Start/stop one Airflow deployment; query its metadata DB directly."""

    def __init__(self, root: Path, *, executor: str = "LocalExecutor", fetch_pool: int = 4,
                 redis_db: int | None = None, extra_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.executor = executor
        self.fetch_pool = fetch_pool
        self.db_name = f"nf_airflow_{secrets.token_hex(4)}"
        self.port = free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.timings: dict[str, float] = {}
        env = {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.db_name}",
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            # one Fernet key for all components: trigger kwargs (the SQS watcher's) and
            # connections are encrypted by one process and read by another
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.logs / "tasks"),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "NEWSFLOW_INGEST_SCHEDULE": "none",
        }
        if redis_db is not None:
            env["AIRFLOW__CELERY__BROKER_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
            env["AIRFLOW__CELERY__RESULT_BACKEND"] = (
                f"db+postgresql+psycopg2://postgres@127.0.0.1:5432/{self.db_name}")
            env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = "2"
            env["AIRFLOW__CELERY__SYNC_PARALLELISM"] = "1"
        env.update(extra_env or {})
        self.env = airflow_env(root / "airflow_home", **env)

    # -- lifecycle ---------------------------------------------------------------------

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')  # name is ours: nf_airflow_<hex>

    def drop_database(self) -> None:
        import psycopg

        with suppress(Exception), psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def migrate(self) -> None:
        t = time.perf_counter()
        proc = subprocess.run([str(PYTHON), "-c", SETUP, str(self.fetch_pool)], env=self.env, cwd=REPO,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode:
            raise RuntimeError(f"airflow db migrate failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
        self.timings["db_migrate_s"] = time.perf_counter() - t

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([str(AIRFLOW), *args], env=env or self.env, cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        proc._nf_log = log  # type: ignore[attr-defined]
        self.procs[name] = proc
        return proc

    def start(self, workers: tuple[str, ...] = ()) -> None:
        t = time.perf_counter()
        self.create_database()
        self.migrate()
        self.spawn("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.port))
        self.spawn("dag-processor", "dag-processor")
        self.spawn("scheduler", "scheduler")
        self.spawn("triggerer", "triggerer")
        for hostname in workers:
            # task instances record hostname_callable(); make it tell the two workers apart
            env = {**self.env, "NEWSFLOW_WORKER_NAME": hostname,
                   "AIRFLOW__CORE__HOSTNAME_CALLABLE": "newsflow_airflow.hostname.worker_hostname"}
            self.spawn(f"worker-{hostname}", "celery", "worker", "--celery-hostname", hostname,
                       "--concurrency", "2", "--queues", "default", "--without-mingle", "--without-gossip",
                       env=env)
        self.wait_for(self._api_healthy, 120, "the API server to answer /api/v2/monitor/health")
        self.timings["start_s"] = time.perf_counter() - t

    def stop(self) -> None:
        for proc in self.procs.values():
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group: task runners, gunicorn, pools
            with suppress(Exception):
                proc.wait(timeout=5)
            proc._nf_log.close()  # type: ignore[attr-defined]
        self.drop_database()

    def __enter__(self) -> AirflowStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- observation -------------------------------------------------------------------

    def _api_healthy(self) -> bool:
        self.check_alive()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"Airflow components exited: {dead}\n{self.tail_logs()}")

    def tail_logs(self, n: int = 60) -> str:
        out = []
        for log in sorted(self.logs.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()
            out.append(f"--- {log.name} (last {n} lines)\n" + "\n".join(lines[-n:]))
        return "\n".join(out)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{self.db_name}") as conn:
            return conn.execute(sql, params).fetchall()

    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.tail_logs()}")

    def api(self, method: str, path: str, body: dict | None = None) -> Any:
        import json

        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", **self._auth()})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def _auth(self) -> dict[str, str]:
        """A JWT from the simple auth manager (all-admins mode hands one out without a password)."""
        import json

        if not hasattr(self, "_token"):
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/auth/token", timeout=10) as r:
                self._token = json.loads(r.read())["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def dag_runs(self, dag_id: str) -> list[tuple]:
        return self.query("SELECT run_id, state, run_type FROM dag_run WHERE dag_id = %s ORDER BY id", (dag_id,))

    def task_instances(self, dag_id: str, run_id: str | None = None) -> list[tuple]:
        sql = ("SELECT task_id, map_index, state, hostname, rendered_map_index, run_id FROM task_instance "
               "WHERE dag_id = %s" + (" AND run_id = %s" if run_id else "") + " ORDER BY task_id, map_index")
        return self.query(sql, (dag_id, run_id) if run_id else (dag_id,))

    def dag_serialized(self, dag_id: str) -> bool:
        return bool(self.query("SELECT 1 FROM serialized_dag WHERE dag_id = %s", (dag_id,)))
