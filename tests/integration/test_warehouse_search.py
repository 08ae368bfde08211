"""Search and the analyst documentation, against both backends.

One warehouse per backend per module: synthetic filler plus two hand-written story pairs
(an English original with its Arabic translation, and the reverse).  Search must stem
English and Arabic, fold Arabic spellings, filter, expand hits to their stories, and turn
any input into results or a clear error.  Every SQL block of sql/README.md runs here too.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from bench.warehouse_synth import (
    PG_URL,
    make_articles,
    pg_schema,
    postgres_available,
    translation_pair,
)
from pipeline.config import Settings
from pipeline.lake import dedup_zone
from pipeline.lake.batches import write_batch
from pipeline.lake.schema import ARTICLE_SCHEMA, with_version
from pipeline.lake.store import open_store
from pipeline.models import DedupAssignment, DedupEdge
from pipeline.warehouse.queries import MAX_QUERY_CHARS, SearchError, search
from pipeline.warehouse.stage import load_warehouse
from tests.conftest import REPO, need

RUN_TS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def put_related(settings: Settings, table: pa.Table) -> int:
    """Replace every related list (what the related stage's sink does, minus its state)."""
    from pipeline.warehouse import loads
    from pipeline.warehouse.backend import open_backend

    with open_backend(settings) as be:
        be.migrate()
        return loads.replace_related(be, table)
LIGHTHOUSE = translation_pair(
    "lighthouse",
    "Volunteers repaint the old lighthouse",
    "متطوعون يعيدون طلاء المنارة القديمة",
    "Volunteers repainted the old lighthouse on the northern cape, and the keepers opened its lantern room to visitors.",
    "أعاد متطوعون طلاء المنارة القديمة على الرأس الشمالي، وفتح الحراس غرفة الفانوس للزوار لأول مرة منذ عقود.",
)
MANUSCRIPTS = translation_pair(
    "manuscripts",
    "National library restores rare manuscripts",
    "المكتبة الوطنية ترمم مخطوطات نادرة",
    "The national library began restoring rare manuscripts from the eighteenth century with help from three universities.",
    "بدأت المكتبة الوطنية ترميم مخطوطات نادرة تعود إلى القرن الثامن عشر بمساعدة خبراء من ثلاث جامعات.",
)


def _ids(pair):
    rows, _ = pair
    return rows[0]["article_id"], rows[1]["article_id"]


def _build(settings: Settings) -> None:
    filler, assignments = make_articles(300, batch_id="2026-a")
    rows, pair_assign = [], []
    for pair_rows, pair_a in (LIGHTHOUSE, MANUSCRIPTS):
        rows += [dict(r, batch_id="2026-b") for r in pair_rows]
        pair_assign += pair_a
    # the Arabic manuscripts article is the original this time: swap the roles
    en_m, ar_m = _ids(MANUSCRIPTS)
    for a in pair_assign:
        if a["article_id"] == en_m:
            a.update(duplicate_of=ar_m, dup_kind="translation", dup_score=0.93)
        elif a["article_id"] == ar_m:
            a.update(duplicate_of=None, dup_kind=None, dup_score=None)
    rows[2]["published_at"] = datetime(2026, 2, 1, tzinfo=UTC)
    rows[3]["published_at"] = datetime(2026, 1, 20, tzinfo=UTC)
    store = open_store(settings)
    write_batch(store, "articles", "2026-a", filler)
    write_batch(store, "articles", "2026-b", pa.Table.from_pylist(rows, schema=with_version(ARTICLE_SCHEMA, "articles")))
    edges = [DedupEdge(a["duplicate_of"], a["article_id"], "translation", 0.93, {"share": 0.9, "anchors": ["18"]})
             for a in assignments + pair_assign if a["duplicate_of"]]
    dedup_zone.write_generation(store, "g1", [DedupAssignment(**a) for a in assignments + pair_assign], edges, {})
    report = load_warehouse(settings, run_ts=RUN_TS)
    assert report.rows_loaded == 304 and report.search_indexed
    _put_feed_health(settings)
    ids = filler["article_id"].to_pylist()
    put_related(settings, pa.table({"article_id": [ids[0]], "related_id": [ids[2]], "rank": pa.array([1], pa.int32()),
                                      "score": [0.7]}))


FEEDS_SQL = "INSERT INTO feeds (url, name, language, health, consecutive_errors) SELECT url, name, language, health, errs FROM nf_feeds"
ATTEMPTS_SQL = ("INSERT INTO fetch_attempts (batch_id, seq, kind, feed_url, url, attempted_at, outcome, status, elapsed_ms, entries) "
                "SELECT batch_id, seq, kind, feed_url, url, attempted_at, outcome, status, elapsed_ms, entries FROM nf_attempts")


def _put_feed_health(settings: Settings) -> None:
    """A few feeds and fetch attempts (the feed-ingestion load fills these in real runs)."""
    from pipeline.warehouse.backend import open_backend

    feeds = pa.table({"url": ["https://north.example/feed", "https://shamal.example/feed"], "name": ["North", "Shamal"],
                      "language": ["en", "ar"], "health": ["ok", "failing"], "errs": [0, 3]})
    n = 8
    attempts = pa.table({
        "batch_id": ["fa-1"] * n, "seq": list(range(n)), "kind": ["feed"] * n,
        "feed_url": [feeds["url"][i % 2].as_py() for i in range(n)], "url": [feeds["url"][i % 2].as_py() for i in range(n)],
        "attempted_at": [datetime(2026, 2, 1, i, tzinfo=UTC) for i in range(n)],
        "outcome": ["ok" if i % 2 == 0 else "error" for i in range(n)], "status": [200 if i % 2 == 0 else 503 for i in range(n)],
        "elapsed_ms": [100.0 + i for i in range(n)], "entries": [3 if i % 2 == 0 else 0 for i in range(n)],
    })
    with open_backend(settings) as be, be.transaction():
        be.stage("nf_feeds", feeds)
        be.stage("nf_attempts", attempts)
        be._execute(FEEDS_SQL)
        be._execute(ATTEMPTS_SQL)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def loaded(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"search-{request.param}")
    if request.param == "duckdb":
        settings = Settings.load(lake=str(root / "lake"), warehouse=f"duckdb:///{root / 'wh.duckdb'}")
        _build(settings)
        yield settings
        return
    need(postgres_available(), f"PostgreSQL not reachable at {PG_URL}")
    with pg_schema() as schema:
        # the optional native tsvector column on: the README's psql blocks query it
        settings = Settings.load(lake=str(root / "lake"), warehouse=PG_URL, warehouse_schema=schema,
                                 search_pg_tsvector=True)
        _build(settings)
        yield settings


def _top(settings, query, **kw):
    return [h.article_id for h in search(settings, query, **kw)]


def test_english_stemming_and_snippets(loaded):
    en, ar = _ids(LIGHTHOUSE)
    hits = search(loaded, "lighthouses repainting", limit=5)
    assert hits[0].article_id == en and hits[0].language == "en"
    assert "lighthouse" in hits[0].snippet.lower() and hits[0].score > 0
    assert ar not in [h.article_id for h in hits]  # no expansion unless asked


def test_arabic_stemming_and_spelling_folds(loaded):
    _, ar = _ids(MANUSCRIPTS)
    assert _top(loaded, "المخطوطات", limit=3)[0] == ar  # definite article stripped by the stemmer
    assert _top(loaded, "مَخْطُوطَاتٌ", limit=3)[0] == ar  # harakat folded away
    assert _top(loaded, "\u200fمخطوطات\u200f", limit=3)[0] == ar  # RTL marks ignored
    _, ar_l = _ids(LIGHTHOUSE)
    assert _top(loaded, "المناره", limit=3)[0] == ar_l  # taa marbuta / haa folded alike


def test_arabic_proclitics_are_stripped_both_ways(loaded):
    """A word found with or without a one-letter proclitic (issue 15: تحلية / لتحلية)."""
    _, ar = _ids(MANUSCRIPTS)
    _, ar_l = _ids(LIGHTHOUSE)
    assert _top(loaded, "لمخطوطات", limit=3)[0] == ar  # li- + the document's word
    assert _top(loaded, "وبمخطوطات", limit=3)[0] == ar  # wa- + bi-
    assert _top(loaded, "للمنارة", limit=3)[0] == ar_l  # li- + the article
    assert _top(loaded, "بمساعدة", limit=3)[0] == ar  # the document's own proclitic form
    assert _top(loaded, "مساعدة", limit=3)[0] == ar  # ... found without it


def test_filters_language_outlet_dates(loaded):
    en, ar = _ids(MANUSCRIPTS)
    assert _top(loaded, "مخطوطات manuscripts", language="ar") == [ar]
    assert _top(loaded, "مخطوطات manuscripts", outlet="north.example") == [en]
    assert _top(loaded, "مخطوطات manuscripts", since="2026-01-25") == [en]
    assert _top(loaded, "مخطوطات manuscripts", until=datetime(2026, 1, 25)) == [ar]
    assert set(_top(loaded, "مخطوطات manuscripts", since="2026-01-01", until="2026-03-01", limit=5)) == {en, ar}
    assert _top(loaded, "manuscripts", language="fr") == []


def test_story_expansion_crosses_languages_both_ways(loaded):
    en, ar = _ids(LIGHTHOUSE)
    hits = search(loaded, "lighthouse keepers", language="ar", expand=True, limit=3)
    assert [h.article_id for h in hits][:1] == [ar] and hits[0].matched_via == en
    en_m, ar_m = _ids(MANUSCRIPTS)
    hits = search(loaded, "مخطوطات نادرة", language="en", expand=True, limit=3)
    assert hits[0].article_id == en_m and hits[0].matched_via == ar_m
    both = _top(loaded, "lighthouse", expand=True, limit=2)
    assert both == [en, ar]  # the matching article, then its translation right after it


def test_cli_search_prints_ranked_results(loaded, monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setenv("NEWSFLOW_WAREHOUSE", loaded.warehouse)
    monkeypatch.setenv("NEWSFLOW_LAKE", loaded.lake)  # the search index lives beside a local lake (PostgreSQL)
    if loaded.warehouse_schema:
        monkeypatch.setenv("NEWSFLOW_WAREHOUSE_SCHEMA", loaded.warehouse_schema)
    assert main(["search", "lighthouse", "--lang", "ar", "--expand", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(" 1. [ar] متطوعون") and "same story as" in out and "score" in out
    assert main(["search", "lighthouse", "--since", "not-a-date"]) == 2
    assert "since" in capsys.readouterr().err


NASTY = ["'", '"', "\\", "%", "%s", "%(query)s", "$1", "?", ";", "--", "/*", "*/", "&", "|", "!", "<->",
         ":*", "(", ")", "AND", "OR", "NOT", "\u200f", "\u202e", "\u200e", "\u061c", "\x00", "ميناء", "مخطوطات",
         "lighthouse", "\t", "\n", " ", "NULL", "'; DROP TABLE articles; --", "🙂", "\ud800", "٣٫٥", "1,000",
         "é", "ß", "ـــ", "\\x27", "E'\\''", "''", "::", "[", "]", "{", "}", "*", "~", "^", "@@"]


def test_any_input_gives_results_or_a_clear_error(loaded):
    """Fuzz: random mixes of quotes, operators, controls, RTL marks, Arabic and big inputs."""
    rng = random.Random(6)
    queries = ["".join(rng.choice(NASTY) for _ in range(rng.randint(1, 30))) for _ in range(120)]
    queries += ["lighthouse " * 900, "م" * 10_240, "".join(rng.choice(NASTY) for _ in range(2500))[:10_240], "", "   "]
    for q in queries:
        kw = rng.choice([{}, {"language": rng.choice(["ar", "en", "'", "\x00", "x" * 300])},
                         {"outlet": rng.choice(NASTY)}, {"since": rng.choice(["2026-01-01", "'; --", "\x00"])}, {"expand": True}])
        try:
            hits = search(loaded, q, limit=rng.choice([1, 5, 20]), **kw)
        except SearchError as exc:
            assert str(exc)  # a plain message: bad filter value
            continue
        assert isinstance(hits, list)
    with pytest.raises(SearchError, match="too long"):
        search(loaded, "x" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(SearchError, match="limit"):
        search(loaded, "lighthouse", limit=0)
    assert search(loaded, "lighthouse " * 900, limit=1)  # 10 KB of a real word still finds it


# -- sql/README.md: every documented query runs on both backends ----------------------------

DOC_PAGES = (REPO / "sql" / "README.md", REPO / "docs" / "warehouse.md")


def readme_blocks(kind: str) -> list[str]:
    """SQL blocks of sql/README.md and docs/warehouse.md: ```sql runs on both, ```duckdb /
    ```psql on one."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOC_PAGES)
    return [m.group(2) for m in re.finditer(r"```(sql|duckdb|psql)\n(.*?)```", text, re.S) if m.group(1) in ("sql", kind)]


def _run_blocks(settings: Settings, kind: str) -> list[int]:
    """Run every block; DuckDB's on a writable connection (the fts block builds its index),
    its ``LOAD`` of the fts extension by the wheel's path in this venv."""
    from pipeline.warehouse.backend import open_backend
    from pipeline.warehouse.backend_duckdb import load_fts

    counts = []
    with open_backend(settings, read_only=kind == "psql") as be:
        for block in readme_blocks(kind):
            rows = []
            for statement in (s for s in block.split(";\n") if s.strip() and not s.strip().startswith("\\")):
                if statement.strip().upper().startswith("LOAD"):
                    assert load_fts(be.conn), "the fts extension (duckdb-extension-fts wheel)"
                    continue
                cur = be._execute(statement)
                rows = cur.fetchall() if cur.description else []
            counts.append(len(rows))
    return counts


def test_every_readme_query_runs(loaded):
    kind = "duckdb" if loaded.warehouse_backend == "duckdb" else "psql"
    counts = _run_blocks(loaded, kind)
    assert len(counts) >= 15
    assert sum(1 for n in counts if n) >= len(counts) - 2  # nearly all answer something here


def test_feed_health_view(loaded):
    from pipeline.warehouse.backend import open_backend

    with open_backend(loaded, read_only=True) as be:
        cur = be._execute("SELECT url, attempts_7d, errors_7d, error_rate_7d, entries_7d FROM v_feed_health ORDER BY url")
        rows = cur.fetchall()
    assert [tuple(r[:3]) for r in rows] == [("https://north.example/feed", 4, 0), ("https://shamal.example/feed", 4, 4)]
    assert float(rows[1][3]) == 1.0 and rows[0][4] == 12


def test_analyst_with_plain_duckdb_and_psql_clis(loaded):
    """The documented shells: ``duckdb -readonly FILE`` and ``psql URL``, given a README query."""
    query = "SELECT story_id, n_copies, languages FROM stories WHERE n_copies > 1 ORDER BY n_copies DESC, story_id LIMIT 3;"
    if loaded.warehouse_backend == "duckdb":
        exe = shutil.which("duckdb", path=str(REPO / ".venv" / "bin")) or shutil.which("duckdb")
        need(exe is not None, "the duckdb CLI (pip install duckdb-cli==1.5.5)")
        out = subprocess.run([exe, "-readonly", loaded.duckdb_path, "-csv", "-c", query], capture_output=True, text=True, timeout=60)
    else:
        exe = shutil.which("psql")
        need(exe is not None, "psql (apt-get install postgresql-client)")
        env = {"PGOPTIONS": f"-c search_path={loaded.warehouse_schema}", "PATH": "/usr/bin:/bin"}
        out = subprocess.run([exe, PG_URL, "--csv", "-c", query], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("story_id,n_copies") and len(lines) == 4


def test_key_lookups_match_the_list_parameter_and_never_inline_a_quote(loaded):
    """``query_keys`` (DuckDB inlines plain ids as literals: a constant IN list is a
    filtered scan, a list parameter a join over the whole table) returns exactly the rows
    of the parameterised query; a key with a quote stays a parameter, so it matches
    nothing and breaks nothing."""
    from pipeline.warehouse.backend import open_backend

    with open_backend(loaded, read_only=True) as be:
        ids = sorted(r["article_id"] for r in be.query("search_rows_page", {"after": "", "limit": 7}))
        assert len(ids) == 7
        fast = be.query_keys("search_rows_ids", "ids", ids)
        plain = be.query("search_rows_ids", {"ids": ids})
        assert sorted(r["article_id"] for r in fast) == ids
        assert sorted(fast, key=lambda r: r["article_id"]) == sorted(plain, key=lambda r: r["article_id"])
        hostile = ids[:2] + ["x') OR 1=1 --", "it's"]
        assert sorted(r["article_id"] for r in be.query_keys("search_rows_ids", "ids", hostile)) == ids[:2]
        stories = sorted({r["story_id"] for r in fast if r["story_id"]})
        members = be.query_keys("story_members", "story_ids", stories)
        assert members == be.query("story_members", {"story_ids": stories})
        assert {m["story_id"] for m in members} == set(stories)
