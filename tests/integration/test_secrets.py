"""Secrets never leave (issue 13): plant them, then grep every output path.

Planted: the warehouse URL's password, the AWS secret key, an API key.  Paths: the CLI's
stdout and stderr (plain and ``-v`` with INFO logs and tracebacks), every log record,
``repr(Settings)``, every API body (``/healthz``, ``/readyz``, 503s, 401) and the Airflow
task side (newsflow's record redaction and Airflow's own secrets masker).
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from pipeline.config import Settings
from tests.conftest import EXAMPLES, REPO
from tests.dags._helpers import airflow_env, run_python

PW = "pw-Planted-4711"
AWS_SECRET = "aws-Planted-secret-0815"
API_KEY = "key-Planted-api-2342"
UNREACHABLE = f"postgresql://analyst:{PW}@127.0.0.1:1/test"
SECRETS = (PW, AWS_SECRET, API_KEY)


def assert_clean(text: str, where: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"{where} leaks {leaked}: {text[-2000:]}"


def cli_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               NEWSFLOW_LAKE=str(tmp_path / "lake"), NEWSFLOW_WAREHOUSE=UNREACHABLE,
               NEWSFLOW_AWS_SECRET_ACCESS_KEY=AWS_SECRET, NEWSFLOW_AWS_ACCESS_KEY_ID="AKIAPLANTEDID",
               NEWSFLOW_API_KEYS=API_KEY, NEWSFLOW_WAREHOUSE_RETRY_ATTEMPTS="1",
               NEWSFLOW_RESOLVE="*.example=127.0.0.1:9", NEWSFLOW_ALLOW_PRIVATE_NETWORKS="1")
    env.update(extra)
    return env


@pytest.mark.parametrize("args", [
    ["run", "--feeds", str(EXAMPLES / "feeds.yaml")],
    ["-v", "run", "--feeds", str(EXAMPLES / "feeds.yaml")],
    ["warehouse", "status"], ["-v", "warehouse", "migrate"], ["warehouse", "load"],
    ["search", "water"], ["-v", "related", "0123456789abcdef"],
])
def test_cli_output_never_carries_a_secret(tmp_path, args):
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=cli_env(tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0  # the warehouse is unreachable: each path reports it
    assert "newsflow: error:" in proc.stderr
    assert_clean(proc.stdout + proc.stderr, f"newsflow {' '.join(args)}")


def test_settings_repr_and_every_log_record_are_redacted():
    from pipeline.redact import install

    settings = Settings.load(warehouse=UNREACHABLE, aws_secret_access_key=AWS_SECRET, api_keys=API_KEY)
    assert_clean(repr(settings), "repr(Settings)")
    assert_clean(str(settings), "str(Settings)")
    install()
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    logging.getLogger().addHandler(handler)
    try:
        log = logging.getLogger("pipeline.test")
        log.error("connecting to %s with %s", settings.warehouse, AWS_SECRET)
        log.warning(f"key {API_KEY} in an f-string")
        try:
            raise RuntimeError(f"psycopg says: {UNREACHABLE} password={PW}")
        except RuntimeError:
            log.exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    out = buf.getvalue()
    assert "connecting to postgresql://analyst:***@127.0.0.1:1/test" in out and "Traceback" in out
    assert_clean(out, "log records")


def test_api_bodies_reveal_neither_secrets_nor_configuration():
    from pipeline.api.app import create_app

    settings = Settings.load(warehouse=UNREACHABLE, aws_secret_access_key=AWS_SECRET, api_keys=API_KEY,
                             warehouse_retry_attempts=1)
    with TestClient(create_app(settings)) as client:
        bodies = []
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["reason"] == "warehouse unreachable"
        for path in ("/articles/0123456789abcdef/related", "/search?q=water", "/stories/0123456789abcdef"):
            r = client.get(path, headers={"X-API-Key": API_KEY})
            assert r.status_code == 503, (path, r.text)
            bodies.append(r.text)
        denied = client.get("/search?q=x")
        assert denied.status_code == 401
        for text in [health.text, ready.text, denied.text, *bodies]:
            assert_clean(text, "API body")
            for config in ("127.0.0.1", "postgresql", "analyst", "duckdb"):
                assert config not in text, f"API body reveals configuration ({config}): {text}"


def test_airflow_task_side_masks_the_connection_password():
    env = airflow_env(AIRFLOW_CONN_NEWSFLOW_WAREHOUSE=f"postgres://analyst:{PW}@127.0.0.1:1/test",
                      NEWSFLOW_AWS_SECRET_ACCESS_KEY=AWS_SECRET)
    script = f"""
import io, json, logging
from newsflow_airflow.connections import settings_from_airflow
from airflow.sdk._shared.secrets_masker import _secrets_masker
buf = io.StringIO(); logging.basicConfig(stream=buf, level=logging.INFO, force=True)
s = settings_from_airflow()
logging.getLogger("pipeline.task").error("warehouse %s failed; repr %r; key {AWS_SECRET}", s.warehouse, s)
masked = _secrets_masker().redact("task log line: {PW} {AWS_SECRET}")
print(json.dumps({{"log": buf.getvalue(), "masked": masked, "url_has_pw": {PW!r} in s.warehouse}}))
"""
    got = run_python(script, env=env)
    assert got["url_has_pw"]  # the setting itself is intact: only outputs are masked
    assert "postgresql://analyst:***@127.0.0.1:1/test" in got["log"]
    assert_clean(got["log"], "task log records")
    assert_clean(got["masked"], "Airflow's secrets masker")
