"""One typed Settings object for every front door (CLI, Airflow tasks, API, tests).

Precedence, lowest to highest: built-in defaults < ``newsflow.toml`` (path from
``NEWSFLOW_CONFIG``, else ``./newsflow.toml`` when present) < ``NEWSFLOW_*`` environment
variables < explicit keyword overrides (``Settings.load(lake=...)``).  Airflow hooks in
``plugins/`` build overrides from Connections at task run time; nothing here knows Airflow.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "yes", "on"}


def _parse_resolve(value: str | dict[str, str]) -> dict[str, str]:
    """``"*.example=127.0.0.1:8765,news.test=10.0.0.2:80"`` -> {pattern: "addr:port"}."""
    if isinstance(value, dict):
        return dict(value)
    out: dict[str, str] = {}
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        pattern, _, target = part.partition("=")
        if not target:
            raise ValueError(f"NEWSFLOW_RESOLVE entry {part!r} is not pattern=addr:port")
        out[pattern.strip().lower()] = target.strip()
    return out


def _parse_list(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(v.strip() for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    """Every knob newsflow has.  Field ``foo`` is read from env ``NEWSFLOW_FOO``."""

    # Storage
    lake: str = "./data/lake"
    warehouse: str = "duckdb:///./data/warehouse.duckdb"
    s3_endpoint_url: str | None = None
    # Warehouse (issue 6): PostgreSQL schema (None: the server's search_path), and how long
    # a DuckDB reader / writer waits for another process's write lock before a clear error.
    warehouse_schema: str | None = None
    warehouse_busy_timeout: float = 10.0
    warehouse_busy_timeout_write: float = 600.0
    # DuckDB readers keep their read-only connection this long after the last query (loading
    # the fts extension costs ~0.1-0.3 s per connection), then release the file to writers.
    warehouse_reader_idle_seconds: float = 1.0
    s3_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None

    # Feed registry used by the Airflow ingest DAG (the CLI takes --feeds)
    feeds_file: str = "./feeds.yaml"

    # Fetching (feeds are untrusted input)
    allow_private_networks: bool = False
    resolve: dict[str, str] = field(default_factory=dict)
    fetch_timeout: float = 10.0
    max_feed_bytes: int = 5_000_000
    max_page_bytes: int = 5_000_000
    max_redirects: int = 5
    fetch_concurrency: int = 8
    user_agent: str = "newsflow/0.1 (+https://github.com/newsflow/newsflow)"
    # Issue 3: polite concurrency and adaptive polling (docs/ingestion.md)
    fetch_per_host: int = 2  # requests in flight to one host name
    host_min_delay: float = 0.2  # seconds between request starts to one host name
    allow_networks: str = ""  # CIDRs the SSRF guard lets through, e.g. "10.1.0.0/16"
    poll_min_interval: float = 0.0  # seconds; a feed is never polled more often than this
    poll_max_interval: float = 86_400.0  # cap on max-age / <ttl> / Retry-After waits
    backoff_base: float = 900.0  # seconds after the first failure, doubled per failure
    backoff_max: float = 86_400.0
    backoff_jitter: float = 0.2  # up to +20 %, derived from hash(url, attempt)
    park_after: int = 10  # consecutive failures before a feed is parked

    # Normalization
    languages: tuple[str, ...] = ("en", "ar", "fr", "fa")
    future_tolerance_hours: float = 24.0

    # Dedup
    near_jaccard: float = 0.60  # sample corpus: non-copies <= 0.05, a reworded-lead copy 0.66
    near_containment: float = 0.75
    # issue 12: copies are judged over the region two texts share, in order (docs/dedup.md)
    near_region_coverage: float = 0.5
    near_min_share: float = 0.4
    translation_region_coverage: float = 0.6
    translation_min_evidence: float = 0.4
    lsh_threshold: float = 0.5
    minhash_perm: int = 128
    translation_candidate_cosine: float = 0.45
    translation_sentence_cosine: float = 0.60
    min_text_chars: int = 200
    # issue 5: encoder chain in preference order (first = primary, persisted per article)
    dedup_encoders: str = "use-m,e5"

    # Related articles
    related_k: int = 20
    related_weight_embedding: float = 0.6
    related_weight_text: float = 0.25
    related_weight_anchors: float = 0.15
    related_half_life_days: float = 7.0
    # issue 7 (docs/related.md): candidates per article from the vector index (HNSW via
    # faiss, or "exact" numpy), extra per-reader-language picks stored beside the top k,
    # and the API's in-process cache / HTTP caching.
    related_min_score: float = 0.5  # reader-language results rank first only above this score
    related_candidates: int = 100
    related_per_language: int = 10
    related_index: str = "hnsw"
    related_hnsw_m: int = 32
    related_ef_search: int = 128
    api_cache_seconds: float = 5.0
    api_cache_entries: int = 200_000
    api_max_age: int = 60

    # API
    api_keys: tuple[str, ...] = ()

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, the TOML file, the environment and ``overrides``."""
        values: dict[str, Any] = {}
        path = config_file or os.environ.get("NEWSFLOW_CONFIG")
        if path is None and Path("newsflow.toml").is_file():
            path = "newsflow.toml"
        if path:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
            values.update(data.get("newsflow", data))
        for f in fields(cls):
            env = os.environ.get(f"NEWSFLOW_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{k: _coerce(cls, k, v) for k, v in values.items()})

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: _coerce(type(self), k, v) for k, v in changes.items()})

    @property
    def warehouse_backend(self) -> str:
        return self.warehouse.split(":", 1)[0].split("+", 1)[0]

    @property
    def duckdb_path(self) -> str:
        if self.warehouse_backend != "duckdb":
            raise ValueError(f"warehouse {self.warehouse!r} is not a duckdb:/// URL")
        return self.warehouse.removeprefix("duckdb:///") or ":memory:"


def _coerce(cls: type, name: str, value: Any) -> Any:
    known = {f.name: f for f in fields(cls)}
    if name not in known:
        raise ValueError(f"unknown newsflow setting {name!r}")
    default = known[name].default
    if name == "resolve":
        return _parse_resolve(value)
    if name in {"languages", "api_keys"}:
        return _parse_list(value)
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).strip().lower() in _TRUE
    if isinstance(default, int) and not isinstance(default, bool):
        return int(value)
    if isinstance(default, float):
        return float(value)
    if value == "":
        return None
    return value
