"""WARC backfill: files we build with warcio's writer from the sample corpus's pages (plus
a warcinfo record, request records, a non-HTML response, a 404, a duplicate capture and a
malformed record), served from the S3-compatible test server and read from disk."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from pipeline.backfill import FEED, backfill, load_progress
from pipeline.config import Settings
from pipeline.feeds.warc import ReadStats, WarcFilter, open_source, read_pages, resolve_sources
from pipeline.lake.articles import read_articles_table
from pipeline.lake.store import open_store
from tests.conftest import EXAMPLES

pytestmark = [pytest.mark.integration, pytest.mark.slow]
EXPECTED = yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))
RUN_TS = datetime(2025, 10, 1, tzinfo=UTC)


def _page_file(url: str) -> Path:
    host, _, path = url.removeprefix("http://").partition("/")
    return EXAMPLES / "sites" / host / path


def _articles() -> list[dict]:
    return [a for a in EXPECTED["articles"] if _page_file(a["url"]).is_file()]


def build_warc(path: Path) -> dict:
    """One WARC.gz in the CC-NEWS shape (a gzip member per record); returns what is in it."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    arts = _articles()
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    w.write_record(w.create_warcinfo_record("test.warc.gz", {"software": "newsflow tests"}))

    def response(url: str, body: bytes, ctype: str = "text/html; charset=utf-8", status: str = "200 OK",
                 date: str = "2025-09-01T10:00:00Z") -> None:
        http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                            warc_headers_dict={"WARC-Date": date}))

    for a in arts:
        req = StatusAndHeaders("GET / HTTP/1.1", [("Host", a["outlet"])], is_http_request=True)
        w.write_record(w.create_warc_record(a["url"], "request", payload=io.BytesIO(b""), http_headers=req))
        response(a["url"], _page_file(a["url"]).read_bytes())
    response(arts[0]["url"], _page_file(arts[0]["url"]).read_bytes(), date="2025-09-02T10:00:00Z")  # recapture
    response("http://gulfledger.example/logo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, ctype="image/png")
    response("http://gulfledger.example/missing.html", b"<html>gone</html>", status="404 Not Found")
    data = buf.getvalue()
    # a malformed record (a gzip member whose WARC header is garbage) in the middle
    garbage = gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: not-a-number\r\n\r\nxx\r\n\r\n")
    cut = len(data) // 2
    # cut at a member boundary: find the next gzip magic after the middle
    cut = data.index(b"\x1f\x8b\x08", cut)
    path.write_bytes(data[:cut] + garbage + data[cut:])
    return {"articles": arts}


@pytest.fixture(scope="module")
def warc(tmp_path_factory):
    path = tmp_path_factory.mktemp("warc") / "CC-NEWS-20250901000000-00000.warc.gz"
    return path, build_warc(path)


def _settings(tmp_path: Path, **kw) -> Settings:
    return Settings.load(lake=str(tmp_path / "lake"), warehouse=f"duckdb:///{tmp_path / 'wh.duckdb'}", **kw)


def _lake_urls(settings: Settings) -> list[str]:
    t = read_articles_table(open_store(settings))
    return [] if t is None else [r["guid"] for r in t.select(["guid", "feed_url"]).to_pylist() if r["feed_url"] == FEED]


def test_reader_filters_before_extraction(warc):
    path, built = warc
    stats = ReadStats()
    def at(offset):
        return open_source(str(path), offset)

    pages = list(read_pages(at, WarcFilter(), stats))
    n = len(built["articles"])
    assert len(pages) == n + 1  # every article page and the recapture; png, 404, request, warcinfo skipped
    assert stats.skipped["not_html"] == 1 and stats.skipped["http_status"] == 1
    assert stats.skipped["malformed"] == 1
    assert stats.skipped["not_response"] >= n + 1
    only = WarcFilter(domains=("alrafid.example",))
    ar = list(read_pages(at, only, ReadStats()))
    assert ar and all("alrafid.example" in p.url for p in ar)
    later = WarcFilter(since=datetime(2025, 9, 2, tzinfo=UTC))
    assert [p.url for p in read_pages(at, later, ReadStats())] == [built["articles"][0]["url"]]
    # offsets resume: reading from a page's next_offset yields exactly the pages after it
    k = len(pages) // 2
    rest = list(read_pages(at, WarcFilter(), ReadStats(), start=pages[k].next_offset))
    assert [p.url for p in rest] == [p.url for p in pages[k + 1 :]]


def test_backfill_from_s3_listing_resumes_and_keeps_one_capture(warc, s3_server, tmp_path, monkeypatch):
    import boto3

    path, built = warc
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").put_object(
        Bucket="newsflow-test", Key=f"crawl-data/CC-NEWS/2025/09/{path.name}", Body=path.read_bytes())
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress(f"crawl-data/CC-NEWS/2025/09/{path.name}\n".encode()))
    settings = _settings(tmp_path, s3_endpoint_url=s3_server)
    (source,) = resolve_sources([str(listing)], "s3://newsflow-test")
    assert source == f"s3://newsflow-test/crawl-data/CC-NEWS/2025/09/{path.name}"
    store = open_store(settings)

    # a crash after the second batch: the rerun ends exactly like a clean run
    import pipeline.backfill as bf

    real, calls = bf.write_outputs, {"n": 0}

    def crash_after_two(*a, **kw):
        real(*a, **kw)
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(bf, "write_outputs", crash_after_two)
    with pytest.raises(RuntimeError):
        backfill(settings, store, [source], WarcFilter(), run_ts=RUN_TS, batch_size=5)
    monkeypatch.setattr(bf, "write_outputs", real)
    progress = load_progress(store, source)
    assert 0 < progress["offset"] and not progress["done"]
    (report,) = backfill(settings, store, [source], WarcFilter(), run_ts=RUN_TS, batch_size=5)
    assert report.done and report.resumed_at == progress["offset"]
    urls = _lake_urls(settings)
    expected = {a["url"] for a in built["articles"]}
    assert len(urls) == len(set(urls)) == len(expected) and set(urls) == expected
    # a rerun reads nothing again
    (again,) = backfill(settings, store, [source], WarcFilter(), run_ts=RUN_TS, batch_size=5)
    assert again.done and again.articles == 0 and again.records == 0
    assert sorted(_lake_urls(settings)) == sorted(urls)


def test_backfilled_articles_go_through_the_page_path(warc, tmp_path):
    path, built = warc
    settings = _settings(tmp_path)
    store = open_store(settings)
    (report,) = backfill(settings, store, [str(path)], WarcFilter(), run_ts=RUN_TS)
    assert report.articles == len(built["articles"]) and report.duplicates == 1
    t = read_articles_table(store).to_pylist()
    by_url = {r["url"]: r for r in t}
    for a in built["articles"]:
        row = by_url.get(a["url"]) or next(r for r in t if r["guid"] == a["url"])
        assert row["language"] == a["language"] and row["source_domain"] == a["outlet"]
        assert row["title"] == a["title"]
        # the page's own date, else the capture's WARC-Date (a feed's date is not in a WARC)
        if row["published_at_source"] == "page":
            assert row["published_at"].isoformat().startswith((a.get("published") or "")[:10])
        else:
            assert row["published_at"] == datetime(2025, 9, 1, 10, tzinfo=UTC)
    sources = [r["published_at_source"] for r in t]
    assert sources.count("page") >= len(sources) // 2, sources


def test_later_batches_see_what_earlier_batches_of_the_file_wrote(tmp_path, monkeypatch):
    """The current versions are read once per file, then kept up to date as batches commit:
    a page captured again under another URL (same declared canonical) in a later batch is
    unchanged, not a second first revision."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    import pipeline.backfill as bf

    body = ("<html><head><title>Harbour cranes</title>"
            "<link rel='canonical' href='http://harbour.example/cranes'></head><body><article>"
            + "".join(f"<p>Paragraph {i}: the harbour authority ordered four new cranes for the eastern "
                      "quay, its board said on Tuesday after a long review of the old ones.</p>" for i in range(6))
            + "</article></body></html>").encode()
    path = tmp_path / "twice.warc.gz"
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for url in ("http://harbour.example/cranes", "http://m.harbour.example/cranes"):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                                warc_headers_dict={"WARC-Date": "2025-09-01T10:00:00Z"}))
    reads: list[int] = []
    real = bf.current_versions
    monkeypatch.setattr(bf, "current_versions", lambda store: reads.append(1) or real(store))
    settings = _settings(tmp_path)
    (report,) = backfill(settings, open_store(settings), [str(path)], WarcFilter(), run_ts=RUN_TS,
                         batch_size=1, workers=1)
    assert (report.pages, report.duplicates, report.articles, len(reads)) == (2, 0, 1, 1)
    rows = read_articles_table(open_store(settings)).to_pylist()
    assert [(r["canonical_url"], r["revision"]) for r in rows] == [("http://harbour.example/cranes", 1)]
