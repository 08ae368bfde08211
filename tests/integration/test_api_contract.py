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
import time
from pathlib import Path

import httpx
import pytest

from pipeline.config import Settings
from tests.integration.test_api import Server, _build

pytestmark = pytest.mark.slow
KEY = "contract-test-key"
H = {"X-API-Key": KEY}
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


def _config(live: str, path: Path) -> Path:
    """A schemathesis config whose id parameters are, half of the time, ids that exist (from
    the live API), so the 200 paths of /articles and /stories are tested too, not only 404s."""
    hits = httpx.get(live + "/search", params={"q": "port", "limit": 20}, headers=H).json()["results"]
    articles = [h["article_id"] for h in hits]
    stories = sorted({h["story_id"] for h in hits if h["story_id"]})
    assert articles and stories
    quoted = lambda values: ", ".join(f'"{v}"' for v in values)  # noqa: E731
    path.write_text(f"""
[dictionaries.article_ids]
values = [{quoted(articles)}]

[dictionaries.story_ids]
values = [{quoted(stories)}]

[parameters]
"path.article_id" = {{ dictionary = "article_ids", probability = 0.5 }}
"path.story_id" = {{ dictionary = "story_ids", probability = 0.5 }}
""", encoding="utf-8")
    return path


def test_schemathesis_finds_no_contract_failure(live, tmp_path):
    binary = Path(sys.executable).parent / "schemathesis"
    config = _config(live, tmp_path / "schemathesis.toml")
    proc = subprocess.run(
        [str(binary), "--config-file", str(config), "run", live + "/openapi.json", "--checks", "all",
         "-H", f"X-API-Key: {KEY}",
         "--max-time", str(BUDGET_SECONDS), "--max-examples", "60", "--workers", "2",
         "--generation-deterministic", "--no-color"],
        capture_output=True, text=True, timeout=BUDGET_SECONDS + 120,
        cwd=tmp_path)  # its .schemathesis/ cache stays out of the checkout
    tail = proc.stdout[-6000:]
    print(tail)  # the summary, in the test log
    assert proc.returncode == 0, tail
    assert "No issues found" in proc.stdout, tail



def test_head_answers_the_get_headers_without_a_body(live):
    ids = [r["article_id"] for r in httpx.get(live + "/search", params={"q": "port"}, headers=H).json()["results"]]
    assert ids
    get = httpx.get(f"{live}/articles/{ids[0]}/related", headers=H)
    head = httpx.head(f"{live}/articles/{ids[0]}/related", headers=H)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))
    assert httpx.head(live + "/articles/nope/related", headers=H).status_code == 404
    assert httpx.head(live + "/healthz").status_code == 200


def test_search_pages_with_offset_and_takes_the_cli_filters(live):
    first = httpx.get(live + "/search", params={"q": "port", "limit": 2}, headers=H).json()
    assert first["offset"] == 0 and len(first["results"]) == 2 and first["next_offset"] == 2
    second = httpx.get(live + "/search", params={"q": "port", "limit": 2, "offset": 2}, headers=H).json()
    assert second["offset"] == 2
    assert not {r["article_id"] for r in first["results"]} & {r["article_id"] for r in second["results"]}
    whole = httpx.get(live + "/search", params={"q": "port", "limit": 4}, headers=H).json()["results"]
    assert [r["article_id"] for r in whole] == [r["article_id"] for r in first["results"] + second["results"]]
    lang = whole[0]["language"]
    only = httpx.get(live + "/search", params={"q": "port", "lang": lang, "limit": 100}, headers=H).json()
    assert only["results"] and {r["language"] for r in only["results"]} == {lang}
    future = httpx.get(live + "/search", params={"q": "port", "since": "2999-01-01T00:00:00"}, headers=H).json()
    assert future["results"] == [] and future["next_offset"] is None
    past = httpx.get(live + "/search", params={"q": "port", "until": "1990-01-01"}, headers=H).json()
    assert past["results"] == []


def test_unknown_language_is_a_422_with_the_documented_body(live):
    r = httpx.get(live + "/search", params={"q": "port", "lang": "en-US"}, headers=H)
    assert r.status_code == 422
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"].startswith("lang: ")
    assert body["errors"][0]["parameter"] == "lang"


def test_keys_cors_and_docs_from_package_assets(live):
    assert httpx.get(live + "/search", params={"q": "port"}).status_code == 401
    pre = httpx.options(live + "/search", headers={"Origin": "https://site.example",
                                                   "Access-Control-Request-Method": "GET",
                                                   "Access-Control-Request-Headers": "x-api-key"})
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://site.example"
    other = httpx.get(live + "/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    for page, asset in (("/docs", "/docs-assets/swagger-ui-bundle.js"), ("/redoc", "/docs-assets/redoc.standalone.js")):
        html = httpx.get(live + page).text
        assert asset in html and "cdn." not in html and "fonts.googleapis" not in html
        assert httpx.get(live + asset).status_code == 200  # no key needed for the docs


def test_access_log_line_and_metrics(live):
    import json
    import logging

    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logging.getLogger("newsflow.access").addHandler(handler)
    try:
        r = httpx.get(live + "/stories/unknown-story", headers=H)
        for _ in range(100):  # the server logs after the last byte is sent: a moment later
            if any("/stories/unknown-story" in line for line in lines):
                break
            time.sleep(0.02)
    finally:
        logging.getLogger("newsflow.access").removeHandler(handler)
    entry = json.loads(next(line for line in lines if "/stories/unknown-story" in line))
    assert entry["method"] == "GET" and entry["status"] == 404 == r.status_code
    assert entry["bytes"] == len(r.content) and entry["duration_ms"] > 0

    text = httpx.get(live + "/metrics", headers=H).text
    assert 'newsflow_http_requests_total{method="GET",route="/stories/{story_id}",status="404"}' in text
    assert 'newsflow_http_request_duration_seconds_bucket{le="0.005",route="/stories/{story_id}"}' in text
    assert 'newsflow_last_load_rows{kind="articles"}' in text
    age = next(float(line.split()[-1]) for line in text.splitlines() if line.startswith("newsflow_snapshot_age_seconds "))
    assert age > 0
