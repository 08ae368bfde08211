"""The lake behaves the same on a local folder and on a real S3-compatible server."""

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from pipeline.config import Settings
from pipeline.lake import raw
from pipeline.lake.articles import read_articles, write_articles
from pipeline.lake.batches import list_batches
from pipeline.lake.store import LocalStore, open_store
from pipeline.models import Anchor, Article, FetchResult


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "lake")
    endpoint = request.getfixturevalue("s3_server")
    prefix = f"s3://newsflow-test/{request.node.name.replace('[', '-').rstrip(']')}"
    return open_store(Settings.load(lake=prefix, s3_endpoint_url=endpoint))


def _article(n: int, day: int = 1) -> Article:
    ts = datetime(2025, 8, day, 12, 0, tzinfo=UTC)
    return Article(
        article_id=f"{n:016x}", url=f"http://a.example/{n}", canonical_url=f"http://a.example/{n}",
        feed_url="http://a.example/rss.xml", source_domain="a.example", guid=str(n), title=f"T{n}",
        summary="s", body_text="الوجود الأميركي في العراق", language="ar", language_confidence=0.9,
        published_at=ts, published_at_source="feed", published_at_flag=None, fetched_at=ts,
        authors=["A"], anchors=[Anchor("year", "2025", 3)], content_hash=f"h{n}",
    )


def test_put_get_list_and_put_if_absent(store):
    store.put("x/a.bin", b"1")
    store.put("x/a.bin", b"2")
    assert store.get("x/a.bin") == b"2"
    assert store.put_if_absent("x/b.bin", b"first") is True
    assert store.put_if_absent("x/b.bin", b"second") is False
    assert store.get("x/b.bin") == b"first"
    assert list(store.list("x/")) == ["x/a.bin", "x/b.bin"]
    assert store.exists("x/a.bin") and not store.exists("x/zzz")
    with pytest.raises(ValueError):
        store.put("../escape", b"")


def test_a_batch_is_one_file_and_one_delta_commit_and_rerun_safe(store):
    from pipeline.lake import tables

    arts = [_article(1, 1), _article(2, 2), _article(3, 2)]  # two publication days, one batch
    m = write_articles(store, "20250802T000000Z-abc", arts)
    assert (m.batch_id, m.rows) == ("20250802T000000Z-abc", 3)
    files = tables.files(store, "articles")
    assert len(files) == 1 and "/" not in files[0]["path"]  # one file, however many publication days
    assert (files[0]["min"], files[0]["max"], files[0]["num_records"]) == ("20250802T000000Z-abc",) * 2 + (3,)
    assert tables.version(store, "articles") == 0
    write_articles(store, "20250802T000000Z-abc", arts)  # rerun: replaces the batch, no duplicates
    assert tables.version(store, "articles") == 1
    got = read_articles(store)
    assert [a.article_id for a in got] == [a.article_id for a in arts]
    assert got[0].anchors == [Anchor("year", "2025", 3)]
    assert got[0].body_text == "الوجود الأميركي في العراق"
    assert [(b.batch_id, b.rows) for b in list_batches(store, "articles")] == [("20250802T000000Z-abc", 3)]
    # time travel: version 0 still holds the first write
    assert tables.read(store, "articles", version=0).num_rows == 3


def test_files_outside_the_delta_log_are_invisible(store):
    import io

    import pyarrow.parquet as pq

    write_articles(store, "20250802T000000Z-abc", [_article(1)])
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": [1]}), buf)
    store.put("tables/articles/crashed.parquet", buf.getvalue())  # a writer died before its commit
    assert [a.article_id for a in read_articles(store)] == [_article(1).article_id]


def test_raw_zone_keeps_first_fetch_time(store):
    first = FetchResult("http://a.example/f", "http://a.example/f", 200, {"etag": "1"}, b"<rss/>", datetime(2025, 8, 1, tzinfo=UTC))
    again = FetchResult("http://a.example/f", "http://a.example/f", 200, {"etag": "1"}, b"<rss/>", datetime(2025, 8, 9, tzinfo=UTC))
    r1 = raw.store_fetch(store, "feed", first)
    r2 = raw.store_fetch(store, "feed", again)
    assert r1.fetched_at == r2.fetched_at == datetime(2025, 8, 1, tzinfo=UTC)
    assert raw.load_body(store, r1.sha256) == b"<rss/>"
    assert len(raw.iter_records(store)) == 1
