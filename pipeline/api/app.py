"""The HTTP API the website pulls related articles from (FastAPI).

Each request opens a short read-only warehouse connection, so the API never holds the
DuckDB file against the pipeline's writers.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Query

from pipeline.config import Settings
from pipeline.warehouse import queries


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.load()
    app = FastAPI(title="newsflow", version="0.1.0", description="Related articles and search over the newsflow warehouse.")

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/articles/{article_id}/related")
    def related(
        article_id: str,
        k: int = Query(10, ge=1, le=50, description="number of related articles"),
        lang: str | None = Query(None, pattern=r"^[a-z]{2,3}$", description="reader language, ISO 639-1"),
    ) -> dict:
        rows = queries.related_for(settings, article_id, k=k, language=lang)
        if rows is None:
            raise HTTPException(status_code=404, detail=f"unknown article {article_id}")
        return {"article_id": article_id, "related": rows}

    return app
