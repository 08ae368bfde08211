"""One typed Settings object for every front door (CLI, Airflow tasks, API, tests).

Precedence, lowest to highest: built-in defaults < ``newsflow.toml`` (path from
``NEWSFLOW_CONFIG``, else ``./newsflow.toml`` when present) < ``NEWSFLOW_*`` environment
variables < explicit keyword overrides (``Settings.load(lake=...)``).  Airflow hooks in
``plugins/`` build overrides from Connections at task run time; nothing here knows Airflow.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# Values that must never be printed: masked by Settings.__repr__ and registered with
# pipeline.redact so they are masked in every log line and error too.
SECRET_FIELDS = ("aws_access_key_id", "aws_secret_access_key", "api_keys", "airflow_api_token",
                 "airflow_api_password")
LAKE_SCHEMES = ("a folder path", "file:///path", "s3://bucket/prefix")
WAREHOUSE_SCHEMES = ("duckdb:///path.duckdb", "postgresql://user@host:5432/db")
# Fields that must be > 0 / >= 0: a zero concurrency or a negative timeout is a typo.
_POSITIVE = {"fetch_timeout", "max_feed_bytes", "max_page_bytes", "fetch_concurrency", "fetch_per_host",
             "warehouse_busy_timeout", "warehouse_busy_timeout_write", "minhash_perm", "related_k",
             "related_candidates", "warehouse_retry_attempts", "warehouse_retry_seconds",
             "s3_max_attempts", "s3_timeout", "park_after"}
_NON_NEGATIVE = {"max_redirects", "host_min_delay", "poll_min_interval", "backoff_base", "backoff_max",
                 "backoff_jitter", "warehouse_reader_idle_seconds", "warehouse_reader_threads",
                 "api_cache_seconds", "api_build_idle_seconds", "api_max_age", "dedup_window_days", "min_text_chars", "search_workers", "search_pull_seconds"}
_CHOICES = {"related_index": ("hnsw", "exact"), "api_snapshot_builder": ("inline", "external")}


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
            raise ConfigError(f"NEWSFLOW_RESOLVE entry {part!r} is not pattern=addr:port",
                              "e.g. NEWSFLOW_RESOLVE='*.example=127.0.0.1:8765'")
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
    # DuckDB readers keep their read-only connection this long after the last query (opening
    # one costs milliseconds per request), then release the file to writers.
    warehouse_reader_idle_seconds: float = 1.0
    # DuckDB threads per read-only connection (0: DuckDB's default, one per core).  The API's
    # workers use 1 (``pipeline.api.app``): their reads are key lookups, where a second thread
    # only adds scheduling (at 1M, 11 search hits' rows: 6.7 ms of CPU with 2 threads, 2.0 with 1).
    warehouse_reader_threads: int = 0
    # Search (issue 15, docs/warehouse.md#search): the tantivy index directory (default: beside
    # the DuckDB file, ``<file>.search``; for PostgreSQL ``<data dir>/search/<db>-<schema>``),
    # analysis processes for large loads (0: every core), publishing each commit to the lake's
    # object store, and serving the published index (API replicas pull newer commits, checking
    # at most every ``search_pull_seconds``).  ``search_pg_tsvector``: the optional native
    # tsvector column with GIN for analysts on PostgreSQL (off by default).
    search_index: str | None = None
    search_workers: int = 0
    search_publish: bool = False
    search_replica: bool = False
    search_pull_seconds: float = 5.0
    search_pg_tsvector: bool = False
    s3_region: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    # Issue 13: bounded retries.  A dropped warehouse connection is retried on a new
    # connection with exponential backoff, at most this many attempts within this many
    # seconds; the object store gets botocore's standard retries, each try bounded.
    warehouse_retry_attempts: int = 5
    warehouse_retry_seconds: float = 60.0
    s3_max_attempts: int = 5
    s3_timeout: float = 10.0  # seconds per connect / read of one S3 request
    # The ingest DAG's schedule (NEWSFLOW_INGEST_SCHEDULE, read by dags/newsflow_ingest.py)
    # and how old the served data may be before /readyz says 503 (None: twice the schedule).
    ingest_schedule: str = "@hourly"
    ready_max_age: float | None = None

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
    # WebSub push (issue 18): off until set; the public URL hubs reach ``newsflow push serve`` at
    push_callback_base: str | None = None
    push_poll_interval: float = 21_600.0  # seconds: a pushed feed is polled this rarely (safety net)
    # Under Airflow, ``push serve`` writes the articles batch and posts an asset event
    # (pipeline/asset_events.py) instead of running the later stages itself
    airflow_api_url: str | None = None
    airflow_api_token: str | None = None  # a JWT; else one is asked for with user and password
    airflow_api_user: str | None = None
    airflow_api_password: str | None = None

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
    translation_fill_cosine: float = 0.45  # weaker in-order matches between strong ones
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
    # issue 15 (docs/related.md): where the API's memory-mapped snapshots live (default: beside
    # a DuckDB file, ``<file>.api/``; else a per-warehouse folder in the temp directory) and who
    # builds them: ``inline`` (the first worker that needs one) or ``external`` (the
    # ``newsflow serve`` supervisor's builder process; its workers only map).
    api_snapshot_dir: str | None = None
    api_snapshot_builder: str = "inline"
    # seconds a ``newsflow serve`` snapshot build runs at idle CPU priority (only on time the
    # workers leave unused) before it goes on at nice 10; 0: nice 10 from the start
    api_build_idle_seconds: float = 300.0

    # API
    api_keys: tuple[str, ...] = ()
    # Browser origins allowed to call the API (CORS), e.g. the site's widgets:
    # ``NEWSFLOW_API_CORS_ORIGINS=https://www.example.org,https://m.example.org``; ``*`` for any.
    api_cors_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from pipeline.redact import register, url_password

        register(self.aws_access_key_id, self.aws_secret_access_key, url_password(self.warehouse),
                 url_password(self.lake), url_password(self.s3_endpoint_url), *self.api_keys,
                 self.airflow_api_token, self.airflow_api_password)

    def __repr__(self) -> str:
        from pipeline.redact import MASK, redact_url

        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = MASK
            elif isinstance(value, str):
                value = redact_url(value)
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, the TOML file, the environment and ``overrides``.

        Every bad value raises :class:`ConfigError` naming where it came from (the
        variable, or the key and file) and what is allowed, so an operator can fix it
        from the one-line message.
        """
        values: dict[str, Any] = {}
        source: dict[str, str] = {}
        path = config_file or os.environ.get("NEWSFLOW_CONFIG")
        if path is None and Path("newsflow.toml").is_file():
            path = "newsflow.toml"
        if path:
            for k, v in _read_toml(path).items():
                values[k], source[k] = v, f"{k} in {path}"
        for f in fields(cls):
            env = os.environ.get(f"NEWSFLOW_{f.name.upper()}")
            if env is not None:
                values[f.name], source[f.name] = env, f"NEWSFLOW_{f.name.upper()}"
        for k, v in overrides.items():
            if v is not None:
                values[k], source[k] = v, f"setting {k}"
        settings = cls(**{k: _coerce(cls, k, v, source.get(k)) for k, v in values.items()})
        settings.validate()
        return settings

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: _coerce(type(self), k, v) for k, v in changes.items()})

    def validate(self) -> None:
        """Cross-field and format checks (URL schemes); raises :class:`ConfigError`."""
        lake = self.lake.strip()
        if not lake:
            raise ConfigError("NEWSFLOW_LAKE is empty", f"allowed: {', '.join(LAKE_SCHEMES)}")
        scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://", lake)
        if scheme and scheme.group(1).lower() not in {"s3", "file"}:
            raise ConfigError(f"NEWSFLOW_LAKE scheme {scheme.group(1)}:// is not supported",
                              f"allowed: {', '.join(LAKE_SCHEMES)}")
        if lake.lower().startswith("s3://") and not lake[5:].split("/", 1)[0]:
            raise ConfigError("NEWSFLOW_LAKE names no bucket", "e.g. s3://my-bucket/newsflow")
        if self.warehouse_backend not in {"duckdb", "postgresql", "postgres"} or "://" not in self.warehouse:
            from pipeline.redact import redact_url

            raise ConfigError(f"NEWSFLOW_WAREHOUSE {redact_url(self.warehouse)!r} is not a supported URL",
                              f"allowed: {', '.join(WAREHOUSE_SCHEMES)}")

    @property
    def ready_max_age_seconds(self) -> float:
        """How old served data may be before ``/readyz`` fails: the setting, else 2 x schedule."""
        if self.ready_max_age is not None:
            return self.ready_max_age
        return 2 * schedule_seconds(self.ingest_schedule)

    @property
    def warehouse_backend(self) -> str:
        return self.warehouse.split(":", 1)[0].split("+", 1)[0]

    @property
    def duckdb_path(self) -> str:
        if self.warehouse_backend != "duckdb":
            raise ValueError(f"warehouse {self.warehouse!r} is not a duckdb:/// URL")
        return self.warehouse.removeprefix("duckdb:///") or ":memory:"


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found", "fix --config or NEWSFLOW_CONFIG") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}",
                          "see https://toml.io; settings go under [newsflow] or at the top level") from None
    table = data.get("newsflow", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [newsflow] must be a table", "e.g. [newsflow]\nlake = \"./data/lake\"")
    return table


def _unknown(name: str, source: str | None, names: list[str]) -> ConfigError:
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else "the settings are listed in pipeline/config.py and README.md"
    where = source or f"setting {name}"
    return ConfigError(f"unknown newsflow setting {name!r} ({where})", hint)


def _coerce(cls: type, name: str, value: Any, source: str | None = None) -> Any:
    """``value`` as the field's type; a :class:`ConfigError` naming ``source`` otherwise."""
    known = {f.name: f for f in fields(cls)}
    if name not in known:
        raise _unknown(name, source, sorted(known))
    where = source or f"setting {name}"
    default = known[name].default
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if name == "resolve":
        return _parse_resolve(value)
    if name in {"languages", "api_keys", "api_cors_origins"}:
        return _parse_list(value)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in _TRUE | _FALSE:
            raise ConfigError(f"{where} = {value!r} is not a boolean", "allowed: 1, 0, true, false, yes, no, on, off")
        return text in _TRUE
    if name in _CHOICES and str(value) not in _CHOICES[name]:
        raise ConfigError(f"{where} = {value!r} is not allowed", f"allowed: {', '.join(_CHOICES[name])}")
    number = isinstance(default, int | float) or name == "ready_max_age"
    if number and value in ("", None) and name == "ready_max_age":
        return None
    if number:
        kind = "an integer" if isinstance(default, int) else "a number"
        try:
            out = int(value) if isinstance(default, int) else float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} = {value!r} is not {kind}", f"e.g. {where.split(' ')[0]}={default}") from None
        if name in _POSITIVE and out <= 0:
            raise ConfigError(f"{where} = {value!r} must be greater than 0", f"default: {default}")
        if name in _NON_NEGATIVE and out < 0:
            raise ConfigError(f"{where} = {value!r} must not be negative", f"default: {default}")
        return out
    if value == "":
        return None
    if not isinstance(value, str) and default is not None and not isinstance(default, dict | tuple):
        raise ConfigError(f"{where} = {value!r} must be a string", f"e.g. {default!r}")
    return value


_PRESETS = {"@hourly": 3600, "@daily": 86_400, "@midnight": 86_400, "@weekly": 7 * 86_400,
            "@monthly": 31 * 86_400, "@yearly": 366 * 86_400, "@annually": 366 * 86_400}


def schedule_seconds(expr: str | None) -> float:
    """The longest gap between two runs of a schedule (a preset, or a simple cron line).

    Handles the presets and cron lines whose minute/hour fields are ``*/N``, a number or
    ``*``; anything fancier (or ``none``: manual triggers) counts as one day, which keeps
    ``/readyz`` from failing a deployment that simply runs less often.
    """
    text = (expr or "").strip().lower()
    if text in _PRESETS:
        return float(_PRESETS[text])
    parts = text.split()
    if len(parts) == 5 and parts[2:] == ["*", "*", "*"]:
        minute, hour = parts[0], parts[1]
        if hour == "*":
            if minute.startswith("*/") and minute[2:].isdigit():
                return 60.0 * int(minute[2:])
            if minute == "*":
                return 60.0
            return 3600.0
        if hour.startswith("*/") and hour[2:].isdigit():
            return 3600.0 * int(hour[2:])
        if hour.isdigit():
            return 86_400.0
    return 86_400.0
