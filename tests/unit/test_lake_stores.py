"""Both stores behave identically: Delta commits, crashes, reruns, schema evolution,
compaction, vacuum that respects the consumers, quarantine.

Every test runs against a local folder and a real S3-compatible server (moto over HTTP on
loopback, the ``s3_server`` fixture)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from pipeline.lake import integrity, maintenance, tables
from pipeline.lake.articles import read_articles, read_articles_table, write_articles
from pipeline.lake.batches import Batch, list_batches, read_batch
from pipeline.lake.schema import ARTICLE_SCHEMA
from pipeline.lake.store import LocalStore, S3Store, open_store
from pipeline.models import Anchor, Article


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "lake")
    endpoint = request.getfixturevalue("s3_server")
    prefix = f"s3://newsflow-test/stores-{request.node.name.replace('[', '-').rstrip(']')}"
    return open_store(Settings.load(lake=prefix, s3_endpoint_url=endpoint))


class Crash(Exception):
    pass


def art(n: int, day: int = 1, body: str = "نص المقال") -> Article:
    ts = datetime(2025, 8, day, 12, 0, tzinfo=UTC)
    return Article(
        article_id=f"{n:016x}", url=f"http://a.example/{n}", canonical_url=f"http://a.example/{n}",
        feed_url="http://a.example/rss.xml", source_domain="a.example", guid=str(n), title=f"T{n}",
        summary="s", body_text=body, language="ar", language_confidence=0.9,
        published_at=ts, published_at_source="feed", published_at_flag=None, fetched_at=ts,
        authors=["A"], anchors=[Anchor("year", "2025", 3)], content_hash=f"h{n}", section="World",
    )


def test_crash_before_the_commit_leaves_nothing_visible_and_the_rerun_commits_once(store, monkeypatch):
    import pipeline.failpoints as fp

    write_articles(store, "20250801T000000Z-a", [art(1)])

    def die(name):
        if name == "before_commit":
            raise Crash(name)

    monkeypatch.setattr(fp, "failpoint", die)
    with pytest.raises(Crash):
        write_articles(store, "20250802T000000Z-b", [art(2, 1), art(3, 2)])
    monkeypatch.undo()
    assert [m.batch_id for m in list_batches(store, "articles")] == ["20250801T000000Z-a"]
    assert [a.article_id for a in read_articles(store)] == [art(1).article_id]
    write_articles(store, "20250802T000000Z-b", [art(2, 1), art(3, 2)])
    write_articles(store, "20250802T000000Z-b", [art(2, 1), art(3, 2)])
    assert [a.article_id for a in read_articles(store)] == [art(i).article_id for i in (1, 2, 3)]
    assert [(b.batch_id, b.rows) for b in list_batches(store, "articles")] == [
        ("20250801T000000Z-a", 1), ("20250802T000000Z-b", 2)]


def _writer(lake: str, endpoint: str | None, name: str, go) -> None:
    store = open_store(Settings.load(lake=lake, s3_endpoint_url=endpoint))
    go.wait()
    for i in range(4):
        write_articles(store, f"2025080{i + 1}T000000Z-{name}", [art(100 * (ord(name) - 96) + i)])


def test_two_writers_appending_at_once_lose_nothing(store):
    """Two processes start on a lake without the table and append at once (delta-rs
    retries a commit that lost the race): every batch is committed once."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    lake = str(store.root) if isinstance(store, LocalStore) else store.uri
    endpoint = getattr(store, "endpoint", None)
    go = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(lake, endpoint, name, go)) for name in "ab"]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert [(b.batch_id, b.rows) for b in list_batches(store, "articles")] == sorted(
        (f"2025080{i + 1}T000000Z-{n}", 1) for n in "ab" for i in range(4))
    assert len(tables.files(store, "articles")) == 8


def test_a_writer_that_finds_the_table_created_meanwhile_appends(store, monkeypatch):
    """The race the two-process test cannot force: the table did not exist when this
    writer looked, and exists when it commits its first file."""
    write_articles(store, "20250801T000000Z-a", [art(1)])
    real, calls = tables.open_table, []

    def not_yet(*a, **kw):  # the first look of the next write: no table yet
        calls.append(1)
        return None if len(calls) == 1 else real(*a, **kw)

    monkeypatch.setattr(tables, "open_table", not_yet)
    write_articles(store, "20250802T000000Z-b", [art(2)])
    monkeypatch.undo()
    assert [(b.batch_id, b.rows) for b in list_batches(store, "articles")] == [
        ("20250801T000000Z-a", 1), ("20250802T000000Z-b", 1)]
    assert len(tables.files(store, "articles")) == 2  # no orphan file referenced twice


def test_written_files_carry_batch_statistics_and_read_back(store):
    write_articles(store, "20250801T000000Z-a", [art(1), art(2, 3)])
    (f,) = tables.files(store, "articles")
    meta = pq.ParquetFile(io.BytesIO(store.get(f"tables/articles/{f['path']}"))).metadata
    assert meta.num_rows == 2
    assert (f["min"], f["max"], f["num_records"]) == ("20250801T000000Z-a", "20250801T000000Z-a", 2)
    got = read_articles(store)
    assert [(a.section, a.published_at_inferred, a.body_text) for a in got] == [("World", False, "نص المقال")] * 2


def test_adding_a_column_does_not_rewrite_the_table(store):
    """Schema evolution: rows written before a column existed keep their file and read null."""
    old_schema = pa.schema([f for f in ARTICLE_SCHEMA if f.name not in ("section", "site_name")])
    row = {k: v for k, v in art(7).__dict__.items() if k in old_schema.names}
    row.update(anchors=[{"kind": "year", "value": "2025", "position": 3}], batch_id="20250801T000000Z-old")
    tables.write(store, "articles", "20250801T000000Z-old", pa.Table.from_pylist([row], schema=old_schema))
    (old_file,) = [f["path"] for f in tables.files(store, "articles")]
    write_articles(store, "20250802T000000Z-new", [art(8)])
    assert old_file in [f["path"] for f in tables.files(store, "articles")]  # not rewritten
    table = read_articles_table(store)
    assert table.schema.names == ARTICLE_SCHEMA.names
    got = {a.article_id: a for a in read_articles(store)}
    assert got[art(7).article_id].section is None and got[art(8).article_id].section == "World"
    assert got[art(7).article_id].anchors == [Anchor("year", "2025", 3)]


def test_compaction_merges_files_keeps_batches_and_time_travel(store):
    for i in range(4):
        write_articles(store, f"2025080{i + 1}T000000Z-x", [art(10 + i, 1), art(20 + i, 2)])
    write_articles(store, "20250909T000000Z-y", [art(30, 3)])
    before = read_articles_table(store)
    v_before = tables.version(store, "articles")
    batch_rows = {m.batch_id: read_batch(store, m).num_rows for m in list_batches(store, "articles")}
    assert len(tables.files(store, "articles")) == 5
    (result,) = maintenance.compact(store, ["articles"])
    assert (result.files_removed, result.files_added) == (5, 1)
    assert len(tables.files(store, "articles")) == 1
    assert read_articles_table(store).equals(before)
    # batch identities (what the warehouse ledger and dedup key on) survive
    assert {m.batch_id: read_batch(store, m).num_rows for m in list_batches(store, "articles")} == batch_rows
    assert tables.read(store, "articles", version=v_before).num_rows == 9  # the old snapshot still reads
    (again,) = maintenance.compact(store, ["articles"])
    assert again.files_added == 0
    # rewriting one compacted batch replaces its rows without touching its neighbours'
    write_articles(store, "20250801T000000Z-x", [replace(art(10, 1), title="new"), art(20, 2)])
    got = {a.article_id: a for a in read_articles(store)}
    assert got[art(10).article_id].title == "new" and len(got) == 9


def test_vacuum_never_removes_a_version_a_consumer_has_not_read(store):
    write_articles(store, "20250801T000000Z-a", [art(1)])
    write_articles(store, "20250801T000000Z-a", [art(1), art(2)])  # v1 replaces v0's file
    (r,) = maintenance.vacuum(store, ["articles"], retain_hours=0)
    assert r.retain_hours is None and "not read yet" in r.why  # no consumer has read it: untouched
    for consumer in ("dedup", "warehouse"):
        maintenance.record(store, consumer, {"articles": 1})
    maintenance.record(store, "related", {"articles": 0})  # related read version 0 only
    (r,) = maintenance.vacuum(store, ["articles"], retain_hours=0)
    assert r.removed == 0 and "oldest unread" in r.why
    assert tables.read(store, "articles", version=0).num_rows == 1  # version 0's file is still there
    maintenance.record(store, "related", {"articles": 1})
    (r,) = maintenance.vacuum(store, ["articles"], retain_hours=0)
    assert r.removed == 1  # every consumer read version 1: version 0's file may go
    assert [a.article_id for a in read_articles(store)] == [art(1).article_id, art(2).article_id]


def test_truncated_file_is_quarantined_skipped_and_released_when_restored(store):
    write_articles(store, "20250801T000000Z-a", [art(1)])
    write_articles(store, "20250802T000000Z-b", [art(2)])
    victim = next(f for f in tables.files(store, "articles") if f["min"] == "20250801T000000Z-a")
    key = f"tables/articles/{victim['path']}"
    good = store.get(key)
    store.put(key, good[: len(good) // 2])
    assert [a.article_id for a in read_articles(store)] == [art(2).article_id]  # the rest proceeds
    assert integrity.QUARANTINED_HERE[-1][:3] == ("articles", "20250801T000000Z-a", key)
    assert [b.batch_id for b in list_batches(store, "articles")] == ["20250802T000000Z-b"]
    with pytest.raises(integrity.CorruptFile, match="truncated"):
        read_batch(store, Batch("articles", "20250801T000000Z-a", 1, {}))
    store.put(key, good)
    checks = integrity.check_lake(store, ["articles"])
    assert [c.problem for c in checks] == [None, None] and any(c.was_quarantined for c in checks)
    assert [b.batch_id for b in list_batches(store, "articles")] == ["20250801T000000Z-a", "20250802T000000Z-b"]


def test_cli_lake_compact_vacuum_and_batches(store, monkeypatch, capsys):
    from pipeline.cli import main

    write_articles(store, "20250801T000000Z-b1", [art(1)])
    write_articles(store, "20250802T000000Z-b2", [art(2)])
    monkeypatch.setenv("NEWSFLOW_LAKE", store.uri)
    if isinstance(store, S3Store):
        monkeypatch.setenv("NEWSFLOW_S3_ENDPOINT_URL", store.client.meta.endpoint_url)
    assert main(["lake", "compact"]) == 0
    out = capsys.readouterr().out
    assert "articles: 2 files -> 1 (version 2)" in out, out
    assert main(["lake", "vacuum"]) == 0
    assert "articles: kept (not read yet by dedup, related, warehouse)" in capsys.readouterr().out
    assert main(["lake", "batches"]) == 0
    assert "20250801T000000Z-b1" in capsys.readouterr().out


def test_s3_credentials_from_settings_or_standard_chain(s3_server, monkeypatch):
    explicit = Settings.load(lake="s3://newsflow-test/creds", s3_endpoint_url=s3_server,
                             aws_access_key_id="settings-key", aws_secret_access_key="settings-secret")
    store = open_store(explicit)
    assert store.client._request_signer._credentials.access_key == "settings-key"
    store.put("k/x", b"1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "chain-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "chain-secret")
    chain = open_store(Settings.load(lake="s3://newsflow-test/creds", s3_endpoint_url=s3_server))
    assert chain.client._request_signer._credentials.access_key == "chain-key"
    assert chain.get("k/x") == b"1"


def test_rewriting_a_quarantined_batch_drops_the_bad_file_and_lifts_the_quarantine(store):
    write_articles(store, "20250801T000000Z-a", [art(1)])
    write_articles(store, "20250802T000000Z-b", [art(2)])
    (victim,) = [f for f in tables.files(store, "articles") if f["min"] == "20250801T000000Z-a"]
    key = f"tables/articles/{victim['path']}"
    store.put(key, store.get(key)[:100])
    assert [a.article_id for a in read_articles(store)] == [art(2).article_id]  # quarantined now
    write_articles(store, "20250801T000000Z-a", [replace(art(1), title="again")])  # ingested again
    assert integrity.records(store, "articles") == []
    assert victim["path"] not in [f["path"] for f in tables.files(store, "articles")]
    assert {a.article_id: a.title for a in read_articles(store)} == {art(1).article_id: "again", art(2).article_id: "T2"}


_READER = """
import sys
from pipeline.config import Settings
from pipeline.lake import tables
from pipeline.lake.store import open_store
store = open_store(Settings.load(lake=sys.argv[1], s3_endpoint_url=sys.argv[2] or None))
for _ in range(3):
    rows = tables.read(store, "articles").num_rows
print(rows)
"""


def test_a_process_that_read_a_table_exits_cleanly(store):
    """Reading through delta-rs' default pyarrow filesystem aborted about one process in
    ten at interpreter exit ("terminate called without an active exception", exit 134),
    after its work was done: an Airflow task or a CLI run failing at random.  Sixteen
    fresh processes read the table; every one must exit 0 with the right count."""
    import subprocess
    import sys

    write_articles(store, "20250801T000000Z-a", [art(1), art(2)])
    lake = str(store.root) if isinstance(store, LocalStore) else store.uri
    endpoint = getattr(store, "endpoint", None) or ""
    results = []
    for _ in range(8):  # two at a time: the machine has two cores
        procs = [subprocess.Popen([sys.executable, "-c", _READER, lake, endpoint], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results += [(p.wait(120), *p.communicate()) for p in procs]
    assert [(rc, out.strip()) for rc, out, _ in results] == [(0, "2")] * 16, [err[-300:] for *_, err in results]
