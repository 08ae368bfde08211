from pipeline.config import Settings


def test_defaults_match_the_design_contract(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key in list(__import__("os").environ):
        if key.startswith("NEWSFLOW_"):
            monkeypatch.delenv(key)
    s = Settings.load()
    assert s.lake == "./data/lake"
    assert s.warehouse == "duckdb:///./data/warehouse.duckdb"
    assert s.duckdb_path == "./data/warehouse.duckdb"
    assert s.allow_private_networks is False
    assert s.s3_endpoint_url is None


def test_env_overrides_toml(monkeypatch, tmp_path):
    toml = tmp_path / "newsflow.toml"
    toml.write_text('[newsflow]\nlake = "s3://from-toml/x"\nfetch_timeout = 3\nlanguages = ["en", "ar"]\n')
    monkeypatch.setenv("NEWSFLOW_CONFIG", str(toml))
    monkeypatch.setenv("NEWSFLOW_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("NEWSFLOW_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setenv("NEWSFLOW_RESOLVE", "*.example=127.0.0.1:8765, news.test=10.0.0.1:80")
    s = Settings.load()
    assert s.lake == "s3://from-toml/x"
    assert s.fetch_timeout == 3.0
    assert s.languages == ("en", "ar")
    assert s.s3_endpoint_url == "http://127.0.0.1:9000"
    assert s.allow_private_networks is True
    assert s.resolve == {"*.example": "127.0.0.1:8765", "news.test": "10.0.0.1:80"}
    monkeypatch.setenv("NEWSFLOW_LAKE", "/tmp/env-lake")
    assert Settings.load().lake == "/tmp/env-lake"
    assert Settings.load(lake="/explicit").lake == "/explicit"


def test_unknown_setting_is_an_error(tmp_path):
    import pytest

    toml = tmp_path / "newsflow.toml"
    toml.write_text('lakee = "typo"\n')
    with pytest.raises(ValueError, match="unknown newsflow setting 'lakee'"):
        Settings.load(toml)
