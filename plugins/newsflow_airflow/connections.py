"""Turn Airflow Connections into ``pipeline.config.Settings`` overrides, at task run time.

Why: operators keep credentials in Airflow Connections (UI, secrets backend, or
``AIRFLOW_CONN_*``), while the pipeline only knows ``Settings``.  This is the one place
that translates between the two, so DAG files never touch credentials and the CLI never
needs Airflow.  A connection that is not defined is not an error: the laptop default is
"no connections, everything from ``NEWSFLOW_*`` env vars / ``newsflow.toml``".

Non-secret knobs come from the JSON Variable ``newsflow_settings`` (e.g.
``{"feeds_file": "/srv/feeds.yaml", "fetch_concurrency": 4}``).

Only call this inside a running task (or a test): a lookup at DAG parse time would hit
the secrets backend on every parse of every file.

Recognised shapes
-----------------
lake (``newsflow_lake``):
  * ``aws`` connection: login/password = access key / secret, ``extra.endpoint_url``
    (any S3-compatible server), ``extra.region_name``, and the lake location as
    ``extra.lake = "s3://bucket/prefix"`` or ``extra.bucket`` (+ ``extra.prefix``).
    Without a location, ``NEWSFLOW_LAKE`` (must then be ``s3://...``) is kept.
  * any other type with ``extra.path`` or a ``host`` holding a folder / ``s3://`` URL.
warehouse (``newsflow_warehouse``):
  * ``postgres`` connection -> ``postgresql://login:password@host:port/schema``
    (``extra.sslmode`` etc. become query parameters);
  * ``extra.url`` holding any warehouse URL, or a ``host`` starting with ``duckdb://``
    (e.g. ``{"conn_type": "generic", "host": "duckdb:////srv/newsflow/wh.duckdb"}``);
  * ``duckdb`` connection: ``extra.path`` or the URI path (``duckdb:////abs/wh.duckdb``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from pipeline.config import Settings

log = logging.getLogger(__name__)

LAKE_CONN_ID = "newsflow_lake"
WAREHOUSE_CONN_ID = "newsflow_warehouse"
SETTINGS_VARIABLE = "newsflow_settings"

_AWS_TYPES = {"aws", "s3", "amazon"}
_POSTGRES_TYPES = {"postgres", "postgresql"}
_PG_QUERY_KEYS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name", "options")


class ConnectionLike(Protocol):
    """The fields of ``airflow.sdk.Connection`` we read (lets tests pass plain objects)."""

    conn_type: str | None
    host: str | None
    schema: str | None
    login: str | None
    password: str | None
    port: int | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


def lake_overrides(conn: ConnectionLike) -> dict[str, Any]:
    """Settings overrides (``lake``, ``s3_*``, ``aws_*``) described by a lake connection."""
    extra = conn.extra_dejson or {}
    out: dict[str, Any] = {}
    conn_type = (conn.conn_type or "").lower()
    if conn_type in _AWS_TYPES:
        if conn.login:
            out["aws_access_key_id"] = conn.login
        if conn.password:
            out["aws_secret_access_key"] = conn.password
        endpoint = extra.get("endpoint_url") or (extra.get("service_config", {}).get("s3", {}) or {}).get("endpoint_url")
        if endpoint:
            out["s3_endpoint_url"] = endpoint
        if extra.get("region_name"):
            out["s3_region"] = extra["region_name"]
        if extra.get("lake"):
            out["lake"] = _require_s3(str(extra["lake"]))
        elif extra.get("bucket"):
            prefix = str(extra.get("prefix") or "").strip("/")
            out["lake"] = f"s3://{extra['bucket']}" + (f"/{prefix}" if prefix else "")
        return out
    location = extra.get("lake") or extra.get("path") or conn.host
    if location:
        out["lake"] = str(location)
    return out


def warehouse_overrides(conn: ConnectionLike) -> dict[str, Any]:
    """Settings override (``warehouse`` URL) described by a warehouse connection."""
    extra = conn.extra_dejson or {}
    conn_type = (conn.conn_type or "").lower()
    if extra.get("url"):
        return {"warehouse": str(extra["url"])}
    if (conn.host or "").startswith(("duckdb://", "postgresql://", "postgres://")):
        return {"warehouse": conn.host}
    if conn_type in _POSTGRES_TYPES:
        return {"warehouse": _postgres_url(conn, extra)}
    if conn_type == "duckdb":
        path = extra.get("path") or conn.schema or conn.host
        if not path:
            raise ValueError("duckdb warehouse connection names no database file (extra.path)")
        return {"warehouse": f"duckdb:///{path}"}
    raise ValueError(
        f"warehouse connection of type {conn.conn_type!r} is not understood; "
        "use a postgres connection, extra.url, or a duckdb:// host"
    )


def settings_from_airflow(
    lake_conn_id: str = LAKE_CONN_ID,
    warehouse_conn_id: str = WAREHOUSE_CONN_ID,
    **overrides: Any,
) -> Settings:
    """``Settings.load()`` plus the ``newsflow_settings`` Variable, then the two connections.

    Precedence, lowest first: defaults < ``newsflow.toml`` < ``NEWSFLOW_*`` env < the
    Variable < the connections < ``overrides``.

    Explicit ``overrides`` win over both.  Undefined connections are skipped (logged at
    INFO); a defined but malformed one raises, because silently writing to the laptop
    default lake in production would be worse than a failed task.
    """
    from pipeline.config import Settings

    values: dict[str, Any] = dict(variable_overrides())
    lake = _get_connection(lake_conn_id)
    if lake is not None:
        values.update(lake_overrides(lake))
    warehouse = _get_connection(warehouse_conn_id)
    if warehouse is not None:
        values.update(warehouse_overrides(warehouse))
    values.update(overrides)
    settings = Settings.load(**values)
    mask_settings_secrets(settings)
    log.info(
        "newsflow settings: lake=%s warehouse=%s (from connections/variable: %s)",
        settings.lake,
        _redact(settings.warehouse),
        ", ".join(sorted(k for k in values if k not in overrides)) or "none",  # names only
    )
    return settings


def mask_settings_secrets(settings: Settings) -> None:
    """Keep the settings' secrets out of the Airflow task log, twice over: newsflow's own
    record redaction (``pipeline.redact``) and Airflow's secrets masker, which also covers
    what Airflow itself prints (rendered templates, XCom, exceptions)."""
    from pipeline.redact import install, url_password

    install()
    secrets = [settings.aws_access_key_id, settings.aws_secret_access_key, url_password(settings.warehouse),
               url_password(settings.lake), *settings.api_keys]
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older Airflow: newsflow's redaction still applies
        return
    for secret in secrets:
        if secret:
            mask_secret(secret)


def variable_overrides(key: str = SETTINGS_VARIABLE) -> dict[str, Any]:
    """Settings fields from the JSON Airflow Variable ``newsflow_settings`` (empty if unset).

    Why a Variable: knobs that are not credentials (feed registry path, shard size,
    thresholds, ``resolve``) belong in the Airflow UI / secrets backend next to the
    connections, not in worker images.  Unknown field names fail loudly here, at task run
    time, with the variable's name in the message.
    """
    from pipeline.config import Settings

    raw = _get_variable(key)
    if raw is None:
        return {}
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise ValueError(f"Airflow Variable {key!r} must be a JSON object of newsflow settings: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"Airflow Variable {key!r} must be a JSON object, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"Airflow Variable {key!r} names unknown newsflow settings: {unknown}")
    return data


def _get_variable(key: str) -> Any:
    """The variable's raw value, or None when no secrets backend / metastore defines it."""
    from airflow.sdk import Variable

    try:
        return Variable.get(key, default=None)
    except KeyError:
        return None


def _get_connection(conn_id: str) -> ConnectionLike | None:
    """The connection, or None when no secrets backend / metastore defines it."""
    if not conn_id:
        return None
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        log.info("connection %r is not defined; using NEWSFLOW_* settings", conn_id)
        return None


def _postgres_url(conn: ConnectionLike, extra: dict[str, Any]) -> str:
    auth = ""
    if conn.login:
        auth = quote(conn.login, safe="")
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        auth += "@"
    host = conn.host or "localhost"
    port = f":{conn.port}" if conn.port else ""
    database = quote(conn.schema or "", safe="")
    query = urlencode({k: extra[k] for k in _PG_QUERY_KEYS if extra.get(k) is not None})
    return f"postgresql://{auth}{host}{port}/{database}" + (f"?{query}" if query else "")


def _require_s3(url: str) -> str:
    if not url.startswith("s3://"):
        raise ValueError(f"aws lake connection: extra.lake must be an s3:// URL, got {url!r}")
    return url


def _redact(url: str) -> str:
    """Hide the password of a ``scheme://user:password@host`` URL for logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    auth, _, host = rest.rpartition("@")
    user = auth.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
