"""Both stores behave identically: commits, crashes, reruns, old schema versions, compaction.

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
from pipeline.lake.articles import read_articles, read_articles_table, write_articles
from pipeline.lake.batches import compact, list_batches, read_batch, read_manifest, rewrite_manifest
from pipeline.lake.integrity import file_entry
from pipeline.lake.schema import ARTICLE_SCHEMA, SCHEMA_VERSION
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


class CrashBeforeManifest:
    """Delegates to a real store but dies when the commit manifest is written."""

    def __init__(self, inner):
        self.inner, self.uri = inner, inner.uri

    def put(self, key: str, data: bytes) -> None:
        if key.startswith("_manifests/"):
            raise Crash(key)
        self.inner.put(key, data)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def art(n: int, day: int = 1, body: str = "نص المقال") -> Article:
    ts = datetime(2025, 8, day, 12, 0, tzinfo=UTC)
    return Article(
        article_id=f"{n:016x}", url=f"http://a.example/{n}", canonical_url=f"http://a.example/{n}",
        feed_url="http://a.example/rss.xml", source_domain="a.example", guid=str(n), title=f"T{n}",
        summary="s", body_text=body, language="ar", language_confidence=0.9,
        published_at=ts, published_at_source="feed", published_at_flag=None, fetched_at=ts,
        authors=["A"], anchors=[Anchor("year", "2025", 3)], content_hash=f"h{n}", section="World",
    )


def test_crash_between_data_and_manifest_leaves_no_visible_half_batch(store):
    write_articles(store, "20250801T000000Z-a", [art(1)])
    with pytest.raises(Crash):
        write_articles(CrashBeforeManifest(store), "20250802T000000Z-b", [art(2, 1), art(3, 2)])
    # the data files are there, but nothing references them
    assert any("20250802T000000Z-b" in k for k in store.list("articles/"))
    assert [m.batch_id for m in list_batches(store, "articles")] == ["20250801T000000Z-a"]
    assert [a.article_id for a in read_articles(store)] == [art(1).article_id]
    # the rerun after the crash commits the batch, with the same keys and no duplicates
    write_articles(store, "20250802T000000Z-b", [art(2, 1), art(3, 2)])
    write_articles(store, "20250802T000000Z-b", [art(2, 1), art(3, 2)])
    assert [a.article_id for a in read_articles(store)] == [art(i).article_id for i in (1, 2, 3)]
    keys = [k for k in store.list("articles/") if "20250802T000000Z-b" in k]
    assert keys == ["articles/dt=2025-08-01/20250802T000000Z-b.parquet", "articles/dt=2025-08-02/20250802T000000Z-b.parquet"]


def test_written_files_are_zstd_versioned_and_read_back(store):
    m = write_articles(store, "20250801T000000Z-a", [art(1), art(2, 3)])
    meta = pq.ParquetFile(io.BytesIO(store.get(m.files[0]["key"]))).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert meta.schema.to_arrow_schema().metadata[b"newsflow.schema_version"] == str(SCHEMA_VERSION).encode()
    got = read_articles(store)
    assert [(a.section, a.published_at_inferred, a.body_text) for a in got] == [("World", False, "نص المقال")] * 2


def test_version_1_files_are_read_and_upgraded(store):
    """A lake written by the skeleton (schema version 1) stays readable after the bump."""
    import json

    v1_fields = [f for f in ARTICLE_SCHEMA if f.name not in ("published_at_inferred", "section", "site_name")]
    v1 = pa.schema(v1_fields).with_metadata({b"newsflow.schema_version": b"1", b"newsflow.kind": b"articles"})
    row = {k: v for k, v in art(7).__dict__.items() if k in v1.names}
    row.update(anchors=[{"kind": "year", "value": "2025", "position": 3}], published_at_source="fetched", batch_id="old")
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([row], schema=v1), buf, compression="zstd")
    store.put("articles/dt=2025-08-01/old.parquet", buf.getvalue())
    manifest = {"kind": "articles", "batch_id": "old", "files": [{"key": "articles/dt=2025-08-01/old.parquet", "rows": 1}],
                "rows": 1, "schema_version": 1, "meta": {}}
    store.put("_manifests/articles/old.json", json.dumps(manifest).encode())
    write_articles(store, "zz-new", [art(8)])
    table = read_articles_table(store)
    assert table.schema.names == ARTICLE_SCHEMA.names
    got = {a.article_id: a for a in read_articles(store)}
    old = got[art(7).article_id]
    assert old.published_at_inferred is True and old.section is None and old.anchors == [Anchor("year", "2025", 3)]


def test_unknown_future_version_is_refused(store):
    write_articles(store, "b1", [art(1)])
    bad = pa.table({"x": [1]}).replace_schema_metadata({b"newsflow.schema_version": b"99"})
    buf = io.BytesIO()
    pq.write_table(bad, buf)
    key = "articles/dt=2025-08-01/b1.parquet"
    store.put(key, buf.getvalue())
    # committed by a newer writer: its manifest records the new file (else it is corrupt)
    m = read_manifest(store, "articles", "b1")
    rewrite_manifest(store, m, files=[file_entry(key, buf.getvalue(), 1)])
    with pytest.raises(ValueError, match="schema version 99"):
        read_articles(store)


def test_compaction_merges_a_partition_keeps_batches_and_is_idempotent(store):
    for i in range(4):
        write_articles(store, f"2025080{i + 1}T000000Z-x", [art(10 + i, 1), art(20 + i, 2)])
    write_articles(store, "20250809T000000Z-y", [art(30, 3)])
    before = read_articles_table(store)
    batch_rows = {m.batch_id: read_batch(store, m).num_rows for m in list_batches(store, "articles")}
    results = {r.partition: r for r in compact(store)}
    assert results["articles/dt=2025-08-01"].files_before == 4 and results["articles/dt=2025-08-01"].key
    assert results["articles/dt=2025-08-03"].key is None  # one file: nothing to merge
    assert len([k for k in store.list("articles/dt=2025-08-01/")]) == 1
    assert read_articles_table(store).equals(before)
    # batch identities (what the warehouse ledger and dedup generations key on) survive
    assert {m.batch_id: read_batch(store, m).num_rows for m in list_batches(store, "articles")} == batch_rows
    again = compact(store)
    assert all(r.key is None for r in again)
    # rewriting one compacted batch replaces its rows without touching its neighbours'
    write_articles(store, "20250801T000000Z-x", [replace(art(10, 1), title="new"), art(20, 2)])
    got = {a.article_id: a for a in read_articles(store)}
    assert got[art(10).article_id].title == "new" and len(got) == 9
    compact(store)
    assert {a.article_id: a.title for a in read_articles(store)} == {k: v.title for k, v in got.items()}


def test_cli_lake_compact(store, monkeypatch, capsys):
    from pipeline.cli import main

    write_articles(store, "b1", [art(1)])
    write_articles(store, "b2", [art(2)])
    if isinstance(store, S3Store):
        monkeypatch.setenv("NEWSFLOW_LAKE", store.uri)
        monkeypatch.setenv("NEWSFLOW_S3_ENDPOINT_URL", store.client.meta.endpoint_url)
    else:
        monkeypatch.setenv("NEWSFLOW_LAKE", store.uri)
    assert main(["lake", "compact"]) == 0
    assert "1 of 1 partitions compacted" in capsys.readouterr().out
    assert main(["lake", "batches"]) == 0
    assert "b1" in capsys.readouterr().out


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
