"""Swagger UI and ReDoc from package assets, and the OpenAPI document's finishing touches.

Why no CDN: the API often runs where browsers of operators cannot reach one (a private
network), and a docs page must not make readers' browsers call third parties.  The assets
are those of the ``fastapi-offline`` package (Swagger UI: Apache-2.0, ReDoc: MIT, the
package: MIT; their licenses ship in its distribution), served under ``/docs-assets``
(``/static`` holds the story pages' own files, ``pipeline.api.pages``).

The OpenAPI touches: ``HEAD`` is documented beside every ``GET`` (``pipeline.api.observe``
answers it), and with API keys on, the ``securitySchemes`` and a 401 on every keyed operation.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from pipeline.api.models import Error

STATIC_DIR = Path(str(resources.files("fastapi_offline").joinpath("static")))
SECURITY_SCHEMES = {
    "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "BearerKey": {"type": "http", "scheme": "bearer", "description": "the same API key as a bearer token"},
}


def mount_docs(app: FastAPI) -> None:
    """``/docs``, ``/redoc`` and ``/docs-assets`` from the package's files (create the app with
    ``docs_url=None, redoc_url=None``)."""
    app.mount("/docs-assets", StaticFiles(directory=STATIC_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=root + "/openapi.json", title=f"{app.title} API",
                                   swagger_js_url=root + "/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url=root + "/docs-assets/swagger-ui.css",
                                   swagger_favicon_url=root + "/docs-assets/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=root + "/openapi.json", title=f"{app.title} API",
                              redoc_js_url=root + "/docs-assets/redoc.standalone.js",
                              redoc_favicon_url=root + "/docs-assets/favicon.png", with_google_fonts=False)


def install_openapi(app: FastAPI, *, keyed: bool, open_paths: set[str]) -> None:
    """Replace ``app.openapi`` with the finished document (built once, then cached)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(get_openapi(title=app.title, version=app.version,
                                                    description=app.description, routes=app.routes),
                                        keyed=keyed, open_paths=open_paths)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def finish(doc: dict[str, Any], *, keyed: bool, open_paths: set[str]) -> dict[str, Any]:
    """HEAD operations and, with keys on, security; a pure function of the document."""
    for path, ops in doc.get("paths", {}).items():
        get = ops.get("get")
        if get is not None and "head" not in ops:
            head = copy.deepcopy(get)
            head["operationId"] = get.get("operationId", path) + "_head"
            head["summary"] = "headers only: " + get.get("summary", "")
            for response in head.get("responses", {}).values():
                response.pop("content", None)
            ops["head"] = head
        if keyed and path not in open_paths:
            for op in ops.values():
                op["security"] = [{"ApiKeyHeader": []}, {"BearerKey": []}]
                response: dict[str, Any] = {"description": "missing or unknown API key"}
                if op is get:
                    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                op["responses"].setdefault("401", response)
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {}).setdefault("Error", Error.model_json_schema())
    if keyed:
        components["securitySchemes"] = SECURITY_SCHEMES
    return doc
