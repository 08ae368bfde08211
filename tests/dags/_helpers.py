"""Helpers for the Airflow front-door tests: paths, a clean Airflow env, subprocess runs."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
PLUGINS = REPO / "plugins"
PYTHON = Path(sys.executable)

_HOME = tempfile.mkdtemp(prefix="newsflow-airflow-home-")
atexit.register(shutil.rmtree, _HOME, True)


def airflow_env(home: str | os.PathLike[str] = _HOME, **extra: str) -> dict[str, str]:
    """Environment for an Airflow process that only sees this repo's DAGs and plugins."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_", "NEWSFLOW_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(PLUGINS)]),
    })
    env.update(extra)
    return env


def in_ci() -> bool:
    return bool(os.environ.get("CI", "").strip())  # any non-empty value, like tests/conftest.py


def skip_or_fail(reason: str) -> None:
    """Skip locally when a prerequisite is missing; in CI a missing prerequisite is a failure."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: not skipping)")
    pytest.skip(reason)


def run_python(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> dict:
    """Run ``script`` in a fresh interpreter; it must print one JSON object as its last line."""
    proc = subprocess.run(
        [str(PYTHON), "-c", script, *args],
        env=env or airflow_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{_errors(proc.stdout + proc.stderr)}\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    last = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not last:
        raise AssertionError(f"no JSON result:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return json.loads(last[-1])


def _errors(output: str, context: int = 25) -> str:
    """The tracebacks in a long log, so a failure message shows the cause, not just the tail."""
    lines = output.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if "Traceback" in line or "Task failed" in line:
            picked.extend(lines[i : i + 3])
            # the innermost frames and the exception line: where the cause is
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t")) or lines[j].startswith("Traceback")):
                j += 1
            picked.append("...")
            picked.extend(lines[max(i + 3, j - context) : j + 1])
            picked.append("...")
    return "\n".join(picked[-300:])
