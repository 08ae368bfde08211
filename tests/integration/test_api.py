"""The HTTP API over a real uvicorn server on loopback, for both warehouse backends.

The warehouse is built from the labelled dev set (stories from the labels, so the test
does not depend on the dedup engine) by the real stages: lake batch, warehouse load,
related refresh.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from pipeline.config import Settings
from pipeline.related.evaluate import load_devset, write_labelled
from tests.conftest import free_port, need

DEV = load_devset()
ROWS = {r["id"]: r for r in DEV["articles"]}
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _pg_ok() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=3).close()
        return True
    except Exception:
        return False


def _build(settings: Settings) -> Settings:
    from pipeline.lake.store import open_store
    from pipeline.stages import load_warehouse, refresh_related

    run_ts = datetime(2025, 4, 1, tzinfo=UTC)
    store = open_store(settings)
    write_labelled(store, list(ROWS.values()), "20250301T000000Z-devset")
    load_warehouse(settings, run_ts=run_ts, store=store)
    refresh_related(settings, store=store, run_ts=run_ts)
    return settings


class Server:
    def __init__(self, settings: Settings) -> None:
        import uvicorn

        from pipeline.api.app import create_app

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def warehouse(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "duckdb":
        settings = Settings.load(lake=str(tmp / "lake"), warehouse=f"duckdb:///{tmp / 'wh.duckdb'}")
        yield _build(settings)
        return
    need(_pg_ok(), f"PostgreSQL not reachable at {PG_URL}")
    import psycopg

    schema = f"nf_api_{uuid.uuid4().hex[:8]}"
    settings = Settings.load(lake=str(tmp / "lake"), warehouse=PG_URL, warehouse_schema=schema)
    try:
        yield _build(settings)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # our own generated name


@pytest.fixture(scope="module")
def base(warehouse):
    with Server(warehouse) as url:
        yield url


def _story_of(aid: str) -> str:
    return ROWS[aid]["story"]


def test_related_shape_and_no_same_story_leak_for_any_article(base):
    with httpx.Client(base_url=base) as c:
        for aid, row in ROWS.items():
            r = c.get(f"/articles/{aid}/related", params={"k": 10})
            assert r.status_code == 200
            body = r.json()
            assert body["article_id"] == aid
            assert body["related"], aid
            for item in body["related"]:
                assert set(item) == {"article_id", "title", "url", "source_domain", "language", "published_at", "score"}
                assert _story_of(item["article_id"]) != row["story"], (aid, item)
            stories = [_story_of(i["article_id"]) for i in body["related"]]
            assert len(stories) == len(set(stories))  # at most one per other story


def test_reader_language_first_and_translations_share_the_canonical_list(base):
    with httpx.Client(base_url=base) as c:
        t = next(r for r in ROWS.values() if r["kind"] == "translation")
        original = next(r for r in ROWS.values() if r["story"] == t["story"] and r["kind"] is None)
        ar = c.get(f"/articles/{t['id']}/related", params={"k": 3}).json()["related"]
        assert ar[0]["language"] == "ar"
        assert all(ROWS[i["article_id"]]["topic"] == t["topic"] for i in ar)
        en = c.get(f"/articles/{original['id']}/related", params={"k": 3, "lang": "ar"}).json()["related"]
        assert [i["article_id"] for i in en] == [i["article_id"] for i in ar]
        top = c.get(f"/articles/{original['id']}/related", params={"k": 3}).json()["related"]
        assert [i["language"] for i in top] == ["en"] * 3
        assert all(ROWS[i["article_id"]]["topic"] == original["topic"] for i in top)


def test_snapshot_agrees_with_the_sql_query(warehouse):
    from pipeline.api.snapshot import Snapshot
    from pipeline.warehouse.queries import related_for

    snap = Snapshot.load(warehouse)
    for aid in list(ROWS)[::3]:
        for lang in (None, "ar", "en"):
            want = [r["article_id"] for r in related_for(warehouse, aid, k=8, language=lang)]
            assert [r["article_id"] for r in snap.related(aid, 8, lang)] == want, (aid, lang)


def test_etag_cache_control_errors_and_docs(base):
    aid = next(iter(ROWS))
    with httpx.Client(base_url=base) as c:
        r = c.get(f"/articles/{aid}/related", params={"k": 5})
        etag = r.headers["etag"]
        assert "max-age=" in r.headers["cache-control"]
        again = c.get(f"/articles/{aid}/related", params={"k": 5}, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
        assert c.get(f"/articles/{aid}/related", params={"k": 6}, headers={"If-None-Match": etag}).status_code == 200
        assert c.get("/articles/0000000000000000/related").status_code == 404
        bad = c.get(f"/articles/{aid}/related", params={"k": 0})
        assert bad.status_code == 422 and "k:" in bad.json()["detail"]
        assert c.get(f"/articles/{aid}/related", params={"k": "ten"}).status_code == 422
        bad_lang = c.get(f"/articles/{aid}/related", params={"lang": "english!"})
        assert bad_lang.status_code == 422 and "lang" in bad_lang.json()["detail"]
        assert c.get("/healthz").json()["status"] == "ok"
        assert c.get("/docs").status_code == 200
        paths = c.get("/openapi.json").json()["paths"]
        assert {"/articles/{article_id}/related", "/search", "/stories/{story_id}", "/healthz"} <= set(paths)


def _fast_and_slow(warehouse, parser: str, off, answers) -> tuple[list, list]:
    """``answers(url)`` from a server, then from one whose fast path ``parser`` takes nothing
    (so FastAPI's route answers everything)."""
    from pipeline.api import fastpath

    with Server(warehouse) as url:
        fast = answers(url)
    original = getattr(fastpath, parser)
    setattr(fastpath, parser, off)
    try:
        with Server(warehouse) as url:
            slow = answers(url)
    finally:
        setattr(fastpath, parser, original)
    return fast, slow


def test_the_fast_path_answers_exactly_as_the_fastapi_route(warehouse):
    """The plain-ASGI hot path must be invisible: same bytes, status and headers as the
    FastAPI route (reached here by switching the fast path off)."""
    import json

    from pipeline.api.snapshot import Snapshot

    snap = Snapshot.load(warehouse)
    aids = list(ROWS)[::4]
    for aid in aids:
        for lang in (None, "ar"):
            want = {"article_id": aid, "related": snap.related(aid, 7, lang)}
            assert snap.related_json(aid, 7, lang) == json.dumps(want, ensure_ascii=False, separators=(",", ":")).encode()
    queries = [{"k": 7}, {"k": 3, "lang": "ar"}, {}, {"lang": "en", "k": 50}, {"k": 51}, {"k": "07"}, {"lang": ""}]

    def answers(url: str) -> list:
        with httpx.Client(base_url=url) as c:
            out = []
            for aid in aids[:5] + ["0000000000000000", "bad id!"]:
                for q in queries:
                    r = c.get(f"/articles/{aid}/related", params=q)
                    out.append((aid, tuple(sorted(q.items())), r.status_code, r.content,
                                r.headers.get("etag"), r.headers.get("cache-control"), r.headers.get("content-type")))
            return out

    fast, slow = _fast_and_slow(warehouse, "parse_related", lambda scope: None, answers)
    assert fast == slow
    assert {row[2] for row in fast} == {200, 404, 422}


def test_parse_related_only_takes_what_it_can_answer_exactly():
    from pipeline.api.fastpath import parse_related

    def scope(path: str, query: bytes = b"", method: str = "GET") -> dict:
        return {"type": "http", "method": method, "path": path, "query_string": query, "headers": []}

    assert parse_related(scope("/articles/abc/related")) == ("abc", 10, None)
    assert parse_related(scope("/articles/abc/related", b"k=5&lang=ar")) == ("abc", 5, "ar")
    assert parse_related(scope("/articles/abc/related", b"lang=pt-BR&other=1")) == ("abc", 10, "pt-BR")
    for path, query, method in [("/articles/abc/related", b"k=0", "GET"), ("/articles/abc/related", b"k=51", "GET"),
                                ("/articles/abc/related", b"k=5&k=6", "GET"), ("/articles/abc/related", b"k=%D9%A3", "GET"),
                                ("/articles/abc/related", b"lang=english", "GET"), ("/articles/a%20b/related", b"", "GET"),
                                ("/articles/a b/related", b"", "GET"), ("/articles//related", b"", "GET"),
                                ("/articles/abc", b"", "GET"), ("/articles/abc/related", b"", "POST")]:
        assert parse_related(scope(path, query, method)) is None, (path, query, method)


def test_the_search_fast_path_answers_exactly_as_the_fastapi_route(warehouse):
    """Valid searches are answered in plain ASGI on the worker's search thread; the bytes,
    statuses and headers must be those of the FastAPI route (reached by switching it off),
    and whatever the fast path does not take (errors, other date forms) reaches the route."""

    queries = [{"q": "desalination plant"}, {"q": "محطة تحلية المياه", "lang": "ar"}, {"q": "water", "lang": "en", "limit": 3},
               {"q": "water", "offset": 2, "limit": 2}, {"q": "water", "since": "2025-03-01"},
               {"q": "water", "until": "2025-03-02", "since": "2025-01-01"}, {"q": "water", "since": "2025-03-01T10:00"},
               {"q": "water", "since": "2025-02-30"}, {"q": "water", "lang": "xx"}, {"q": "water", "lang": ""},
               {"q": ""}, {"q": "x" * 2001}, {"q": "water", "limit": 0}, {"q": "water", "limit": 101},
               {"q": "water", "offset": 900}, {"q": "water", "limit": "07"}, {"q": "water", "outlet": "bad outlet"},
               {"q": "water", "outlet": "news.example"}, {}, {"q": "\"unbalanced"}, {"q": "water", "other": "1"}]

    def answers(url: str) -> list:
        with httpx.Client(base_url=url) as c:
            out = []
            for q in queries:
                r = c.get("/search", params=q)
                out.append((tuple(sorted(q.items())), r.status_code, r.content, r.headers.get("etag"),
                            r.headers.get("cache-control"), r.headers.get("content-type")))
                if r.status_code == 200:  # a revalidation answers 304 both ways
                    again = c.get("/search", params=q, headers={"If-None-Match": r.headers["etag"]})
                    out.append(("304", again.status_code, again.content, again.headers.get("etag")))
            r = c.get("/search?q=a&q=b")
            out.append(("repeated", r.status_code, r.content))
            return out

    fast, slow = _fast_and_slow(warehouse, "parse_search", lambda scope, languages: None, answers)
    assert fast == slow
    assert {row[1] for row in fast} == {200, 304, 422}
    assert any(row[1] == 200 and b'"results":[{' in row[2] for row in fast)


def test_parse_search_only_takes_what_it_can_answer_exactly():
    from datetime import datetime

    from pipeline.api.fastpath import parse_search

    def scope(query: bytes, path: str = "/search", method: str = "GET") -> dict:
        return {"type": "http", "method": method, "path": path, "query_string": query, "headers": []}

    langs = ("en", "ar")
    assert parse_search(scope(b"q=water"), langs) == {"q": "water", "lang": None, "outlet": None, "since": None,
                                                       "until": None, "limit": 10, "offset": 0}
    got = parse_search(scope(b"q=%D9%85%D9%8A%D8%A7%D9%87&lang=ar&since=2025-03-01&limit=5&offset=10&x=1"), langs)
    assert got == {"q": "مياه", "lang": "ar", "outlet": None, "since": datetime(2025, 3, 1), "until": None,
                   "limit": 5, "offset": 10}
    for query, path, method in [(b"q=", "/search", "GET"), (b"lang=en", "/search", "GET"), (b"q=a&lang=fr", "/search", "GET"),
                                (b"q=a&q=b", "/search", "GET"), (b"q=a&limit=0", "/search", "GET"),
                                (b"q=a&limit=101", "/search", "GET"), (b"q=a&offset=900", "/search", "GET"),
                                (b"q=a&limit=%D9%A3", "/search", "GET"), (b"q=a&since=2025-3-1", "/search", "GET"),
                                (b"q=a&since=2025-02-30", "/search", "GET"), (b"q=a&until=2025-03-01T00:00", "/search", "GET"),
                                (b"q=a&outlet=a%20b", "/search", "GET"), (b"q=a&outlet=", "/search", "GET"),
                                (b"q=a", "/search/", "GET"), (b"q=a", "/search", "POST")]:
        assert parse_search(scope(query, path, method), langs) is None, (query, path, method)


def test_stories_and_articles(base):
    t = next(r for r in ROWS.values() if r["kind"] == "translation")
    with httpx.Client(base_url=base) as c:
        art = c.get(f"/articles/{t['id']}").json()
        story = c.get(f"/stories/{art['story_id']}").json()
        members = {a["article_id"] for a in story["articles"]}
        assert members == {r["id"] for r in ROWS.values() if r["story"] == t["story"]}
        assert {"ar", "en"} <= set(story["languages"])
        assert sum(a["is_canonical"] for a in story["articles"]) == 1
        assert c.get("/stories/nope").status_code == 404


def test_search(base):
    with httpx.Client(base_url=base) as c:
        r = c.get("/search", params={"q": "desalination plant Port Halden", "limit": 3})
        assert r.status_code == 200 and r.headers["etag"]
        results = r.json()["results"]
        assert results and all(ROWS[x["article_id"]]["topic"] == "water" for x in results)
        ar = c.get("/search", params={"q": "محطة تحلية المياه", "lang": "ar"}).json()["results"]
        assert ar and all(x["language"] == "ar" for x in ar)
        assert c.get("/search", params={"q": ""}).status_code == 422
        assert c.get("/search", params={"q": "x", "limit": 0}).status_code == 422
        for nasty in ['"unbalanced', "a' OR 1=1 --", "*"]:
            assert c.get("/search", params={"q": nasty}).status_code == 200


def test_api_keys(warehouse):
    with Server(warehouse.replace(api_keys="k1,k2")) as url, httpx.Client(base_url=url) as c:
        aid = next(iter(ROWS))
        assert c.get("/healthz").status_code == 200
        assert c.get(f"/articles/{aid}/related").status_code == 401
        assert c.get(f"/articles/{aid}/related", headers={"X-API-Key": "nope"}).status_code == 401
        assert c.get(f"/articles/{aid}/related", headers={"X-API-Key": "k2"}).status_code == 200
        assert c.get(f"/articles/{aid}/related", headers={"Authorization": "Bearer k1"}).status_code == 200


def test_the_api_sees_a_refresh_without_restarting(warehouse):
    """A pipeline refresh reaches a running server through its periodic version check
    (runs last in this module: it adds an article to the module's warehouse)."""
    from pipeline.lake.store import open_store
    from pipeline.stages import load_warehouse, refresh_related

    src = next(r for r in ROWS.values() if r["topic"] == "water" and r["story"].endswith("a2"))
    new = dict(src, id="feedfacefeedface", url="https://metrowire.example/water/a9-en", story="water-a9",
               published_at="2025-03-02T09:00:00Z", title="Port Halden desalination plant: the next phase",
               body=src["body"].replace("this week", "this month") + " A second phase is planned.")
    with Server(warehouse.replace(api_cache_seconds=0.2)) as url, httpx.Client(base_url=url) as c:
        assert c.get(f"/articles/{new['id']}/related").status_code == 404
        store = open_store(warehouse)
        write_labelled(store, [new], "20250303T000000Z-more", all_rows=[*ROWS.values(), new])
        run_ts = datetime(2025, 4, 2, tzinfo=UTC)
        load_warehouse(warehouse, run_ts=run_ts, store=store)
        report = refresh_related(warehouse, store=store, run_ts=run_ts)
        assert report.new == 1 and report.entered > 0
        deadline = time.monotonic() + 20
        while c.get(f"/articles/{new['id']}/related").status_code != 200:
            assert time.monotonic() < deadline, "the server never picked up the refresh"
            time.sleep(0.2)
        body = c.get(f"/articles/{src['id']}/related", params={"k": 20}).json()
        assert new["id"] in {i["article_id"] for i in body["related"]}


# -- story aliases: a merged story's old id keeps working (issue 12, point 5) -----------------

ALIAS_STORIES = ("water-a1", "solar-a1", "wheat-a1")  # labelled stories of 3 members each


def _write_generation(store, gen: str, assignments: list[dict], aliases: dict[str, str]) -> None:
    from pipeline.lake import dedup_zone
    from pipeline.models import DedupAssignment

    dedup_zone.write_generation(store, gen, [DedupAssignment(**a) for a in assignments], [], {}, aliases=aliases)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def aliased(request, tmp_path_factory):
    """(settings, story ids A B C, the labelled assignments): a warehouse of three stories,
    then a generation where B merged into A (alias B -> A).  The snapshot is checked on every
    request (``api_cache_seconds=0``) so a later generation is served without a restart."""
    from pipeline.lake import dedup_zone
    from pipeline.lake.store import open_store
    from pipeline.stages import load_warehouse

    tmp = tmp_path_factory.mktemp(f"aliases-{request.param}")
    schema = None
    if request.param == "duckdb":
        settings = Settings.load(lake=str(tmp / "lake"), warehouse=f"duckdb:///{tmp / 'wh.duckdb'}", api_cache_seconds=0)
    else:
        need(_pg_ok(), f"PostgreSQL not reachable at {PG_URL}")
        schema = f"nf_api_{uuid.uuid4().hex[:8]}"
        settings = Settings.load(lake=str(tmp / "lake"), warehouse=PG_URL, warehouse_schema=schema, api_cache_seconds=0)
    try:
        store = open_store(settings)
        write_labelled(store, [r for r in ROWS.values() if r["story"] in ALIAS_STORIES], "20250301T000000Z-aliases",
                       index=False)
        labelled = dedup_zone.read_latest(store).assignments.to_pylist()
        by_label = {}
        for a in labelled:
            by_label.setdefault(ROWS[a["article_id"]]["story"], a["story_id"])
        a_id, b_id, c_id = (by_label[s] for s in ALIAS_STORIES)
        merged = [x | {"story_id": a_id} if x["story_id"] == b_id else x for x in labelled]
        _write_generation(store, "20250302-merge", merged, {b_id: a_id})
        load_warehouse(settings, run_ts=datetime(2025, 4, 1, tzinfo=UTC), store=store)
        yield settings, (a_id, b_id, c_id), labelled
    finally:
        if schema:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # our own generated name


def _members(label: str) -> set[str]:
    return {r["id"] for r in ROWS.values() if r["story"] == label}


def test_a_merged_story_id_redirects_to_the_survivor(aliased):
    settings, (a_id, b_id, c_id), _ = aliased
    with Server(settings) as url, httpx.Client(base_url=url) as c:
        moved = c.get(f"/stories/{b_id}")
        assert moved.status_code == 301
        assert moved.headers["location"] == f"/stories/{a_id}"
        assert moved.json() == {"detail": f"story {b_id} is now story {a_id}", "story_id": a_id}
        assert "max-age=" in moved.headers["cache-control"]  # bounded: a later generation may re-point it

        followed = c.get(f"/stories/{b_id}", follow_redirects=True)
        direct = c.get(f"/stories/{a_id}")
        assert followed.status_code == direct.status_code == 200
        assert str(followed.url).endswith(f"/stories/{a_id}") and followed.content == direct.content
        story = direct.json()
        assert set(story) == {"story_id", "canonical_id", "languages", "articles"}
        assert story["story_id"] == a_id
        assert {x["article_id"] for x in story["articles"]} == _members("water-a1") | _members("solar-a1")
        assert sum(x["is_canonical"] for x in story["articles"]) == 1
        assert story["canonical_id"] == story["articles"][0]["article_id"]

        # Articles carry the current story id, never the retired one.
        for aid in _members("solar-a1"):
            assert c.get(f"/articles/{aid}").json()["story_id"] == a_id
        # The untouched story answers as before; unknown and malformed ids as before.
        assert {x["article_id"] for x in c.get(f"/stories/{c_id}").json()["articles"]} == _members("wheat-a1")
        assert c.get("/stories/s-000000000000").status_code == 404
        assert c.get("/stories/bad id!").status_code == 422

        doc = c.get("/openapi.json").json()["paths"]["/stories/{story_id}"]["get"]
        assert {"200", "301", "404"} <= set(doc["responses"])
        assert "Location" in doc["responses"]["301"]["headers"]
        assert "301" in doc["description"]


def test_a_later_generation_re_points_and_drops_aliases_live(aliased):
    """Served from memory, yet a new generation's aliases replace the old ones without a
    restart: the split story exists again (its alias gone), another alias now leads to C."""
    from pipeline.lake.store import open_store
    from pipeline.stages import load_warehouse

    settings, (a_id, b_id, c_id), labelled = aliased
    with Server(settings) as url, httpx.Client(base_url=url) as c:
        assert c.get(f"/stories/{b_id}").status_code == 301
        store = open_store(settings)
        _write_generation(store, "20250303-split", labelled, {"s-retired-long-ago": c_id})
        load_warehouse(settings, run_ts=datetime(2025, 4, 2, tzinfo=UTC), store=store)
        deadline = time.monotonic() + 20
        while c.get(f"/stories/{b_id}").status_code != 200:  # the snapshot refreshes in the background
            assert time.monotonic() < deadline, "the API never served the new generation"
            time.sleep(0.1)
        assert {x["article_id"] for x in c.get(f"/stories/{b_id}").json()["articles"]} == _members("solar-a1")
        assert {x["article_id"] for x in c.get(f"/stories/{a_id}").json()["articles"]} == _members("water-a1")
        moved = c.get("/stories/s-retired-long-ago")
        assert moved.status_code == 301 and moved.headers["location"] == f"/stories/{c_id}"
        for aid in _members("solar-a1"):
            assert c.get(f"/articles/{aid}").json()["story_id"] == b_id


def test_snapshot_resolves_aliases_and_a_current_story_answers_for_itself():
    import pyarrow as pa

    from pipeline.api.snapshot import Snapshot

    arts = pa.table({"article_id": ["a1", "a2", "a3"], "title": ["t1", "t2", "t3"], "url": ["u1", "u2", "u3"],
                     "source_domain": ["d"] * 3, "language": ["en", "ar", "en"], "published_at": [None] * 3,
                     "story_id": ["s_a1", "s_a1", "s_a3"], "duplicate_of": [None, "a1", None],
                     "dup_kind": [None, "translation", None]})
    lists = pa.table({"article_id": pa.array([], pa.string()), "related_id": pa.array([], pa.string()),
                      "score": pa.array([], pa.float64())})
    aliases = pa.table({"alias": ["s_a2", "s_a3", "s_gone"], "story_id": ["s_a1", "s_a1", "s_nowhere"]})
    snap = Snapshot.build("v", arts, lists, 0.0, aliases)
    assert snap.resolve_story("s_a1") == "s_a1"
    assert snap.resolve_story("s_a2") == "s_a1"
    assert snap.resolve_story("s_a3") == "s_a3"  # a current story is never hidden by a stale alias
    assert snap.resolve_story("s_gone") is None  # an alias to no current story: unknown (404)
    assert snap.resolve_story("s_unknown") is None
    assert Snapshot.build("v", arts, lists).aliases == {}


def test_a_warehouse_without_story_aliases_is_still_served(tmp_path):
    """The API only reads: until the pipeline migrates a warehouse to 009 there is no
    ``story_aliases`` table, and everything else must still be served."""
    from pipeline.api.snapshot import Snapshot
    from pipeline.warehouse.backend import open_backend

    settings = Settings.load(lake=str(tmp_path / "lake"), warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with open_backend(settings) as be:
        be.migrate()
        be._execute("DROP VIEW v_story_resolved")
        be._execute("DROP TABLE story_aliases")
    snap = Snapshot.load(settings)
    assert snap.aliases == {} and snap.ids == []


def test_readyz_tells_stale_from_ready_and_healthz_stays_bare(warehouse):
    from fastapi.testclient import TestClient

    from pipeline.api.app import create_app

    # the fixture loaded its data at run_ts 2025-04-01: far older than twice the schedule
    with TestClient(create_app(warehouse)) as c:
        stale = c.get("/readyz")
        assert stale.status_code == 503 and stale.json()["reason"].startswith("data is stale: last load")
        assert c.get("/healthz").json() == {"status": "ok"}
    with TestClient(create_app(warehouse.replace(ready_max_age=10 * 365 * 86400))) as c:
        ok = c.get("/readyz")
        assert ok.status_code == 200 and ok.json()["status"] == "ready" and ok.json()["data_age_seconds"] > 0


def test_pages_read_both_backends(base):
    """The page queries (sql/<backend>/page_*.sql) on DuckDB and PostgreSQL alike."""
    browser = {"Accept": "text/html,*/*;q=0.8"}
    with httpx.Client(base_url=base, timeout=30) as c:
        index = c.get("/stories", params={"limit": 100}).json()
        sizes: dict[str, int] = {}
        for r in ROWS.values():
            sizes[r["story"]] = sizes.get(r["story"], 0) + 1
        assert index["total"] == len(index["stories"]) == sum(1 for n in sizes.values() if n > 1)
        story = index["stories"][0]
        members = c.get(f"/stories/{story['story_id']}").json()["articles"]
        assert story["copies"] == len(members) > 1
        ar = c.get("/stories", params={"lang": "ar", "limit": 100}).json()["stories"]
        assert ar and all("ar" in s["languages"] for s in ar)
        page = c.get(f"/stories/{story['story_id']}", headers=browser)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert all(m["url"] in page.text for m in members)
        assert c.get("/feeds").json() == {"feeds": []}  # the dev set registers no feeds
        assert c.get("/feeds", headers=browser).status_code == 200
