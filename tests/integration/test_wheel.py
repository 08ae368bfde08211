"""The built wheel works outside the repository.

An operator installs newsflow into an Airflow image, not a checkout: this builds the wheel,
installs it into a fresh venv in a temporary folder (``--no-deps``: the dependencies come
from the test venv through a ``.pth`` line, so the test is quick and needs no network),
then, from a working directory outside the repository, runs a full pass on the sample
corpus, a search, ``newsflow eval``'s shipped data and the HTTP API.  Anything read by
repository path (SQL, the dev set, the docs assets) fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLES, REPO, free_port

pytestmark = pytest.mark.slow


# no PYTHONPATH (it would put the checkout first) and none of the caller's settings
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_") and k != "PYTHONPATH"}


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("env", CLEAN_ENV)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, f"{cmd}\nstdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv outside the repository with only the newsflow wheel installed in it."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"  # a copy: an in-tree build would leave build/ and *.egg-info in the checkout
    shutil.copytree(REPO / "pipeline", src / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
          "-w", str(root / "dist"), str(src)])
    wheel = next((root / "dist").glob("newsflow-*.whl"))
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
          "--no-index", "--quiet", str(wheel)])
    # the dependencies: the test venv's site-packages, appended after the venv's own (so the
    # installed wheel, not the checkout's editable install, is what ``import pipeline`` finds)
    site = Path(_run([str(venv / "bin" / "python"), "-c",
                      "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv


def test_wheel_runs_a_full_pass_and_serves_outside_the_repository(installed, tmp_path):
    bin_ = installed / "bin"
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = dict(CLEAN_ENV)
    where = _run([str(bin_ / "python"), "-c", "import pipeline; print(pipeline.__file__)"], cwd=work, env=env)
    assert where.stdout.strip().startswith(str(installed)), where.stdout  # not the checkout

    port = free_port()
    site = subprocess.Popen([str(bin_ / "python"), "-m", "pipeline.demo_server", "--root", str(EXAMPLES / "sites"),
                             "--port", str(port)], cwd=work, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = None
    try:
        env |= {"NEWSFLOW_RESOLVE": f"*.example=127.0.0.1:{port}", "NEWSFLOW_ALLOW_PRIVATE_NETWORKS": "1"}
        time.sleep(0.5)
        run = _run([str(bin_ / "newsflow"), "run", "--feeds", str(EXAMPLES / "feeds.yaml"), "--quiet"],
                   cwd=work, env=env)
        assert run.stdout.startswith("feeds: 7 (6 fetched, 0 not modified, 1 failed, 0 not due, 0 parked)"), run.stdout
        assert (work / "data" / "warehouse.duckdb").is_file()  # the demo defaults, relative to cwd
        found = _run([str(bin_ / "newsflow"), "search", "port expansion", "--json"], cwd=work, env=env)
        assert '"article_id"' in found.stdout

        api_port = free_port()
        api = subprocess.Popen([str(bin_ / "newsflow"), "serve", "--port", str(api_port)], cwd=work, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{api_port}"
        for _ in range(300):
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        hits = httpx.get(base + "/search", params={"q": "port expansion"}).json()["results"]
        assert hits, "the API found nothing the CLI found"
        article = httpx.get(f"{base}/articles/{hits[0]['article_id']}").json()
        assert article["story_id"]
        assert httpx.get(f"{base}/articles/{hits[0]['article_id']}/related").status_code == 200
        page = httpx.get(f"{base}/stories/{article['story_id']}", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "<html" in page.text  # templates ship in the wheel
        assert httpx.get(base + "/static/pages.css").status_code == 200
        docs = httpx.get(base + "/docs").text
        assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
        assert httpx.get(base + "/docs-assets/swagger-ui-bundle.js").status_code == 200
    finally:
        if api is not None:
            api.terminate()
            out = api.communicate(timeout=20)[0]
            assert "listening on http://127.0.0.1:" in out, out[-2000:]
        site.terminate()
        site.wait(timeout=20)
