"""The API's OpenAPI contract, checked by schemathesis against a live server.

Every check (``--checks all``: server errors, status codes, content types, response schemas,
negative and positive data, ignored auth, unsupported methods, ...) over every documented
operation, GET and HEAD, with API keys on (so the ``securitySchemes`` and 401s are part of
it), within a fixed time budget so ``make test`` stays bounded.  The warehouse is the
labelled dev set loaded by the real stages (``tests/integration/test_api.py``'s builder).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pipeline.config import Settings
from tests.integration.test_api import Server, _build

pytestmark = pytest.mark.slow
KEY = "contract-test-key"
BUDGET_SECONDS = 90  # schemathesis's own --max-time; the whole test stays near 2 minutes


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("contract")
    settings = _build(Settings.load(lake=str(tmp / "lake"), warehouse=f"duckdb:///{tmp / 'wh.duckdb'}",
                                    api_keys=KEY, api_cors_origins="https://site.example",
                                    ready_max_age=10**10))  # the dev set's dates are old: ready, not stale
    with Server(settings) as base:
        yield base


def test_the_openapi_document_declares_keys_heads_and_error_bodies(live):
    doc = httpx.get(live + "/openapi.json").json()
    assert doc["components"]["securitySchemes"]["ApiKeyHeader"] == {"type": "apiKey", "in": "header",
                                                                     "name": "X-API-Key"}
    related = doc["paths"]["/articles/{article_id}/related"]
    assert set(related) == {"get", "head"}
    assert {"200", "401", "404", "422", "503"} <= set(related["get"]["responses"])
    ref = related["get"]["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert doc["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["detail"]["type"] == "string"
    assert "security" not in doc["paths"]["/healthz"]["get"]


def test_schemathesis_finds_no_contract_failure(live):
    binary = Path(sys.executable).parent / "schemathesis"
    proc = subprocess.run(
        [str(binary), "run", live + "/openapi.json", "--checks", "all", "-H", f"X-API-Key: {KEY}",
         "--max-time", str(BUDGET_SECONDS), "--max-examples", "60", "--workers", "2",
         "--generation-deterministic", "--no-color"],
        capture_output=True, text=True, timeout=BUDGET_SECONDS + 120)
    tail = proc.stdout[-6000:]
    print(tail)  # the summary, in the test log
    assert proc.returncode == 0, tail
    assert "No issues found" in proc.stdout or " passed" in proc.stdout, tail
