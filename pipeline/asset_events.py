"""Tell Airflow that new articles are in the lake: an asset event over its REST API.

Why REST and not the Airflow SDK: ``pipeline/`` never imports Airflow, and the process
that receives WebSub pushes (``newsflow push serve``) is not an Airflow task.  The event
is posted on the asset ``newsflow_process`` is scheduled on
(``x-newsflow://lake/articles``), so the scheduler starts that DAG within its loop
interval; the event's ``extra`` carries the batch URI (never data).

Credentials come from settings: ``airflow_api_token`` (a JWT), or ``airflow_api_user`` and
``airflow_api_password`` exchanged at ``/auth/token``; with neither, ``/auth/token`` is
asked without a body (Airflow's simple auth manager in all-admins mode, for tests and
local stacks).  They never appear in a log line (``pipeline.redact``).
"""

from __future__ import annotations

import logging

import httpx

from pipeline.config import Settings

ARTICLES_URI = "x-newsflow://lake/articles"
log = logging.getLogger(__name__)


class AssetEventError(RuntimeError):
    """The event could not be posted: the batch is in the lake, and the next scheduled
    process run picks it up anyway."""


class AirflowAssets:
    """A small client for the two calls we need: find the asset, post an event on it."""

    def __init__(self, settings: Settings, client: httpx.Client | None = None) -> None:
        if not settings.airflow_api_url:
            raise AssetEventError("airflow_api_url is not set")
        self.settings = settings
        self.base = settings.airflow_api_url.rstrip("/")
        self.client = client or httpx.Client(timeout=10.0)
        self._token = settings.airflow_api_token
        self._asset_ids: dict[str, int] = {}

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            s = self.settings
            if s.airflow_api_user:
                r = self.client.post(f"{self.base}/auth/token",
                                     json={"username": s.airflow_api_user, "password": s.airflow_api_password or ""})
            else:
                r = self.client.get(f"{self.base}/auth/token")
            if r.status_code // 100 != 2:
                raise AssetEventError(f"Airflow refused a token (HTTP {r.status_code}); check airflow_api_user "
                                      "and airflow_api_password, or set airflow_api_token")
            self._token = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def asset_id(self, uri: str) -> int:
        if uri not in self._asset_ids:
            r = self.client.get(f"{self.base}/api/v2/assets", params={"uri_pattern": uri}, headers=self._headers())
            if r.status_code // 100 != 2:
                raise AssetEventError(f"Airflow asset lookup failed (HTTP {r.status_code})")
            found = [a for a in r.json().get("assets", []) if a.get("uri") == uri]
            if not found:
                raise AssetEventError(f"Airflow knows no asset {uri}: is the newsflow_process DAG deployed?")
            self._asset_ids[uri] = int(found[0]["id"])
        return self._asset_ids[uri]

    def post(self, uri: str, extra: dict) -> dict:
        """Post one asset event; returns Airflow's answer (the event)."""
        try:
            r = self.client.post(f"{self.base}/api/v2/assets/events", headers=self._headers(),
                                 json={"asset_id": self.asset_id(uri), "extra": extra})
        except httpx.HTTPError as exc:
            raise AssetEventError(f"Airflow unreachable at {self.base}: {type(exc).__name__}") from None
        if r.status_code // 100 != 2:
            raise AssetEventError(f"Airflow refused the asset event (HTTP {r.status_code})")
        log.info("asset event on %s: %s", uri, extra)
        return r.json()


def articles_written(settings: Settings, batch_uri: str, via: str) -> dict:
    """The event that starts ``newsflow_process`` for a new articles batch."""
    return AirflowAssets(settings).post(ARTICLES_URI, {"batch_uri": batch_uri, "via": via})
