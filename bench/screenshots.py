"""`make screenshots`: the story page, the stories index and the feed page of the demo
warehouse (`make demo` first), rendered by Debian's Chromium, written to docs/img/."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path

import duckdb
import uvicorn
from playwright.sync_api import sync_playwright

from pipeline.api.app import create_app
from pipeline.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    db = ROOT / "data" / "warehouse.duckdb"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not db.is_file() or chromium is None:
        print("needs the demo warehouse (make demo) and Debian's chromium (make chromium)")
        return 1
    con = duckdb.connect(str(db), read_only=True)
    seed = con.execute("SELECT story_id FROM stories ORDER BY n_copies DESC, story_id LIMIT 1").fetchone()[0]
    con.close()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings.load(warehouse=f"duckdb:///{db}")),
                                           host="127.0.0.1", port=18766, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"http://127.0.0.1:18766/stories/{seed}")
        section = page.locator('section.pairview[data-kind="translation"]').first
        section.scroll_into_view_if_needed()
        section.locator("article.side").nth(1).locator("mark[data-pair]").nth(2).hover()
        page.screenshot(path=str(out / "story.png"))
        for name in ("stories", "feeds"):
            page.goto(f"http://127.0.0.1:18766/{name}")
            page.screenshot(path=str(out / f"{name}.png"))
        browser.close()
    server.should_exit = True
    print(f"wrote {out}/story.png, stories.png, feeds.png (story {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
