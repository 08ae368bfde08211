"""Read-side queries for the CLI and the HTTP API, on short read-only connections."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipeline.config import Settings
from pipeline.extract.textnorm import normalize_for_matching
from pipeline.warehouse import duckdb_backend as wh

MAX_QUERY_CHARS = 2000


class WarehouseUnavailable(RuntimeError):
    """The warehouse file or its tables do not exist yet (run ``newsflow run`` first)."""


@contextlib.contextmanager
def _reader(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    if not wh.duckdb_file_exists(settings):
        raise WarehouseUnavailable(f"no warehouse at {settings.warehouse}; run `newsflow run` first")
    try:
        with wh.connect(settings, read_only=True) as conn:
            yield conn
    except duckdb.CatalogException as exc:
        raise WarehouseUnavailable(f"warehouse {settings.warehouse} is not loaded yet: {exc}") from exc


@dataclass
class SearchHit:
    article_id: str
    title: str
    url: str
    source_domain: str
    language: str
    published_at: datetime | None
    story_id: str | None
    score: float
    snippet: str


def _snippet(body: str, terms: list[str], width: int = 160) -> str:
    norm = normalize_for_matching(body)
    for t in terms:
        pos = norm.find(t)
        if pos >= 0:
            start = max(0, pos - width // 3)
            return ("…" if start else "") + body[start : start + width].replace("\n", " ") + "…"
    return body[:width].replace("\n", " ") + ("…" if len(body) > width else "")


def search(settings: Settings, query: str, *, language: str | None = None, outlet: str | None = None, limit: int = 10) -> list[SearchHit]:
    """BM25 over title and body (normalized), newest-first on ties; never a SQL error on input."""
    normalized = normalize_for_matching(query[:MAX_QUERY_CHARS])
    if not normalized.strip():
        return []
    with _reader(settings) as conn:
        rows = conn.execute(wh.sql("search"), [normalized, language, outlet, int(limit)]).fetchall()
    terms = normalized.split()
    return [
        SearchHit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], float(r[7]), _snippet(r[8] or "", terms))
        for r in rows
    ]


def related_for(settings: Settings, article_id: str, *, k: int = 10, language: str | None = None) -> list[dict] | None:
    """The related list of ``article_id`` (None when the article is unknown)."""
    with _reader(settings) as conn:
        if not conn.execute("SELECT 1 FROM articles WHERE article_id = ?", [article_id]).fetchone():
            return None
        cur = conn.execute(wh.sql("related_for"), [article_id, language, int(k)])
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        if isinstance(r.get("published_at"), datetime):
            r["published_at"] = r["published_at"].isoformat()
        r["score"] = round(float(r["score"]), 6)
    return rows


def article(settings: Settings, article_id: str) -> dict | None:
    with _reader(settings) as conn:
        cur = conn.execute(
            "SELECT article_id, title, url, source_domain, language, published_at, story_id, duplicate_of, dup_kind "
            "FROM articles WHERE article_id = ?",
            [article_id],
        )
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None
