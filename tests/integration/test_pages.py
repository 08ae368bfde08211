"""The HTML pages over a real uvicorn server and a warehouse built by a real pass over
the sample corpus; the story page in a real browser (Debian's Chromium, driven by
Playwright, no browser download).  The seed-like story is the one with most copies: an
English original, a verbatim copy and two Arabic translations (examples/expected.yaml)."""

from __future__ import annotations

import json
import shutil
import threading
import time

import duckdb
import httpx
import pytest

from pipeline.config import Settings
from tests.conftest import IN_CI, free_port, need

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EVIL = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">"
KEY = "editor-key-for-tests"


class Server:
    def __init__(self, settings: Settings) -> None:
        import uvicorn

        from pipeline.api.app import create_app

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def site(demo_warehouse):
    """The demo warehouse, plus one planted hostile article (its own story), served."""
    con = duckdb.connect(demo_warehouse.duckdb_path)
    con.execute("""INSERT INTO articles (article_id, url, canonical_url, source_domain, title, body_text, language,
                   published_at, story_id) VALUES ('00000000000e71a1', 'http://evil.example/x', 'http://evil.example/x',
                   'evil.example', ?, ?, 'en', TIMESTAMPTZ '2025-09-01 00:00:00+00', 's_00000000000e71a1')""",
                [EVIL, "Plain text, then " + EVIL + " and more."])
    con.execute("""INSERT INTO stories (story_id, canonical_id, languages, n_copies) VALUES
                   ('s_00000000000e71a1', '00000000000e71a1', ['en'], 1)""")
    seed = con.execute("SELECT story_id FROM stories ORDER BY n_copies DESC, story_id LIMIT 1").fetchone()[0]
    links = con.execute("""SELECT l.a, l.b, a.source_domain, b.source_domain, CAST(l.evidence AS VARCHAR)
                           FROM article_links l JOIN articles a ON a.article_id = l.a
                           JOIN articles b ON b.article_id = l.b
                           WHERE l.kind = 'translation' AND a.story_id = ? AND b.story_id = ?""", [seed, seed]).fetchall()
    con.close()
    with Server(demo_warehouse) as url:
        yield {"url": url, "seed": seed, "links": links}


def html(url: str, **kw) -> httpx.Response:
    return httpx.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, timeout=30, **kw)


# ----------------------------------------------------------------------------- HTTP


def test_story_page_for_browsers_json_for_clients(site):
    page = html(f"{site['url']}/stories/{site['seed']}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    body = page.text
    assert 'dir="rtl"' in body and 'lang="ar"' in body
    assert body.count("<section class=\"pairview\"") == 3  # a verbatim copy and two translations
    assert "translated by" in body  # the attribution line
    assert "<svg class=\"timeline\"" in body and body.count("<circle") == 4
    api = httpx.get(f"{site['url']}/stories/{site['seed']}", timeout=30)
    assert api.headers["content-type"].startswith("application/json")
    assert len(api.json()["articles"]) == 4


def _evidence(site, left: str, right: str) -> list[dict]:
    """The stored aligned pairs (with offsets in both bodies) of the edge left-right."""
    for a, b, _, _, ev in site["links"]:
        if {a, b} == {left, right}:
            return [p for p in json.loads(ev)["aligned_pairs"] if p["a_span"][0] >= 0 and p["b_span"][0] >= 0]
    raise AssertionError(f"no stored translation edge {left}-{right}")


def test_every_stored_aligned_pair_is_marked(site):
    import re

    body = html(f"{site['url']}/stories/{site['seed']}").text
    shown = re.findall(r'<section class="pairview"[^>]*data-left="(\w+)" data-right="(\w+)" data-kind="translation"', body)
    assert len(shown) == 2  # the two Arabic translations, each beside what it was matched with
    for (left, right), chunk in zip(shown, body.split('data-kind="translation"')[1:], strict=True):
        section = chunk.split("</section>")[0]
        assert section.count('<mark class="pair') == 2 * len(_evidence(site, left, right)) > 0


def test_planted_script_is_text(site):
    body = html(f"{site['url']}/stories/s_00000000000e71a1").text
    assert "<script>window.__pwned" not in body and "<img src=x" not in body
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in body


def test_unknown_story_is_a_404_page(site):
    r = html(f"{site['url']}/stories/s_ffffffffffffffff")
    assert r.status_code == 404 and "No story s_ffffffffffffffff" in r.text


def test_stories_index_filters_and_pages(site):
    every = httpx.get(f"{site['url']}/stories", params={"limit": 100}, timeout=30).json()
    assert every["total"] == len(every["stories"]) >= 2
    assert all(s["copies"] > 1 for s in every["stories"])
    seed = next(s for s in every["stories"] if s["story_id"] == site["seed"])
    assert seed["copies"] == 4 and set(seed["languages"]) == {"ar", "en"} and "translation" in seed["kinds"]
    ar = httpx.get(f"{site['url']}/stories", params={"lang": "ar", "kind": "translation"}, timeout=30).json()
    assert site["seed"] in {s["story_id"] for s in ar["stories"]}
    assert all("translation" in s["kinds"] for s in ar["stories"])
    first = httpx.get(f"{site['url']}/stories", params={"limit": 1}, timeout=30).json()
    second = httpx.get(f"{site['url']}/stories", params={"limit": 1, "offset": 1}, timeout=30).json()
    assert first["stories"][0]["story_id"] != second["stories"][0]["story_id"]
    assert httpx.get(f"{site['url']}/stories", params={"kind": "bogus"}, timeout=30).status_code == 422
    none = httpx.get(f"{site['url']}/stories", params={"until": "2000-01-01"}, timeout=30).json()
    assert none["total"] == 0
    page = html(f"{site['url']}/stories", params={"limit": 1})
    assert "rel=\"next\"" in page.text and f"/stories/{first['stories'][0]['story_id']}" in page.text


def test_feed_health_page(site):
    feeds = httpx.get(f"{site['url']}/feeds", timeout=30).json()["feeds"]
    assert feeds and {"url", "health", "parked", "last_success_at", "error_rate_7d"} <= feeds[0].keys()
    page = html(f"{site['url']}/feeds").text
    assert all(f["url"] in page for f in feeds)


def test_sign_in_sets_an_httponly_cookie(demo_warehouse):
    settings = Settings.load(warehouse=demo_warehouse.warehouse, lake=demo_warehouse.lake, api_keys=(KEY,))
    with Server(settings) as url:
        r = html(f"{url}/stories")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fstories"
        assert httpx.get(f"{url}/stories", timeout=30).status_code == 401  # API clients: 401, no redirect
        bad = httpx.post(f"{url}/login", data={"key": "wrong", "next": "/stories"}, timeout=30)
        assert bad.status_code == 401 and "set-cookie" not in bad.headers
        ok = httpx.post(f"{url}/login", data={"key": KEY, "next": "https://elsewhere.example/"}, timeout=30)
        assert ok.status_code == 303 and ok.headers["location"] == "/stories"  # never an open redirect
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and KEY not in cookie
        jar = httpx.Cookies()
        name, _, value = cookie.split(";")[0].partition("=")
        jar.set(name, value)
        assert html(f"{url}/stories", cookies=jar).status_code == 200
        assert html(f"{url}/feeds", cookies=jar).status_code == 200


# ----------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser():
    need(CHROMIUM is not None, "Debian's chromium is not installed (make install-test installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright is not installed (make install-test)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def story(site, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site['url']}/stories/{site['seed']}")
    yield page, errors
    context.close()


def test_browser_both_languages_and_rtl(story, site):
    page, errors = story
    arabic = page.locator(".body[dir=rtl]").first
    english = page.locator(".body[dir=ltr]").first
    assert arabic.is_visible() and english.is_visible()
    assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert english.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert errors == []


def test_browser_highlights_equal_the_evidence_and_hover_lights_the_counterpart(story, site):
    page, errors = story
    sections = page.locator('section.pairview[data-kind="translation"]')
    assert sections.count() == 2
    for n in range(sections.count()):
        section = sections.nth(n)
        pairs = _evidence(site, section.get_attribute("data-left"), section.get_attribute("data-right"))
        sides = section.locator("article.side")
        left, right = sides.nth(0).locator("mark[data-pair]"), sides.nth(1).locator("mark[data-pair]")
        assert left.count() == right.count() == len(pairs) > 0
        k = len(pairs) // 2
        right.nth(k).hover()
        lit = section.locator("mark.lit")
        assert lit.count() == 2
        assert lit.nth(0).get_attribute("data-pair") == lit.nth(1).get_attribute("data-pair") \
            == right.nth(k).get_attribute("data-pair")
        assert sides.nth(0).locator("mark.lit").count() == 1  # its counterpart, on the other side
        assert page.locator("mark.lit").count() == 2  # nothing else on the page
    assert errors == []


def test_browser_keyboard_focus_lights_the_counterpart(story):
    page, _ = story
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('mark[data-pair]')"):
            break
    else:
        pytest.fail("no marked passage is reachable with Tab")
    pair = page.evaluate("document.activeElement.dataset.pair")
    lit = page.locator("mark.lit")
    assert lit.count() == 2 and {lit.nth(i).get_attribute("data-pair") for i in range(2)} == {pair}


def test_browser_dom_ready_under_a_second_warm(site, browser):
    page = browser.new_page()
    url = f"{site['url']}/stories/{site['seed']}"
    page.goto(url)  # warm: the page is cached per warehouse version
    page.goto(url)
    ms = page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
    print(f"DOMContentLoaded {ms:.0f} ms (warm)")
    assert 0 < ms < 1000
    page.close()


def test_browser_planted_script_never_runs(site, browser):
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{site['url']}/stories/s_00000000000e71a1")
    page.wait_for_load_state("load")
    assert page.evaluate("window.__pwned === undefined") and dialogs == []
    assert "<script>window.__pwned" in page.locator("h1").inner_text()  # shown as text
    page.close()


@pytest.mark.parametrize("path", ["/stories/{seed}", "/stories", "/feeds"])
def test_browser_axe_finds_no_serious_violations(site, browser, path):
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(bypass_csp=True)  # axe is injected by script
    page = context.new_page()
    page.goto(site["url"] + path.format(seed=site["seed"]))
    results = Axe().run(page)
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    context.close()
    assert bad == [], bad


def test_ci_has_a_browser():
    if IN_CI:
        assert CHROMIUM is not None, "CI must run the browser suite: install Debian's chromium"
