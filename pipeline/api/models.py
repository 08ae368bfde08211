"""The API's response bodies as pydantic models: the OpenAPI contract clients generate from.

Why models that the routes never instantiate: the hot paths write their JSON once per
snapshot (``pipeline.api.snapshot``) and serve cached bytes, so these classes exist to
describe those bytes exactly; ``tests/integration/test_api_contract.py`` runs schemathesis
against a live server to hold the two together.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field


def _iso_text(value: Any) -> Any:
    """Only ISO 8601 text: pydantic would also read ``0`` or ``1700000000`` as a Unix time,
    which the documented ``format: date`` / ``date-time`` does not allow."""
    if isinstance(value, str) and not re.match(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected an ISO 8601 date (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM])")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_text)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]


class Error(BaseModel):
    """Every error but 422: one human-readable sentence, never configuration or exception text."""

    detail: str = Field(description="what went wrong, in one sentence")


class Problem(BaseModel):
    parameter: str = Field(description="the parameter, e.g. `k` or `article_id`")
    problem: str = Field(description="why its value was refused")


class ValidationFailure(BaseModel):
    """422: ``detail`` joins the problems into one line; ``errors`` lists them one by one."""

    detail: str = Field(description="`parameter: problem` pairs joined by `; `")
    errors: list[Problem]


class Moved(BaseModel):
    detail: str
    story_id: str = Field(description="the current id of the story")


class Health(BaseModel):
    status: str = Field(description="always `ok` when the process answers")


class Readiness(BaseModel):
    status: str = Field(description="`ready` or `not ready`")
    reason: str = Field(description="`ok`, or why the API is not ready")
    data_age_seconds: int | None = Field(None, description="seconds since the last warehouse load")


class ArticleRef(BaseModel):
    article_id: str
    title: str | None
    url: str | None
    source_domain: str | None
    language: str | None
    published_at: str | None = Field(description="ISO 8601, UTC")


class RelatedItem(ArticleRef):
    score: float


class RelatedList(BaseModel):
    article_id: str
    related: list[RelatedItem] = Field(description="best first; never a copy or translation of the article")


class Article(ArticleRef):
    story_id: str | None
    duplicate_of: str | None = Field(description="the canonical copy when this article is a copy or translation")
    dup_kind: str | None = Field(description="`exact`, `near`, `translation` or null for a canonical")


class StoryMember(ArticleRef):
    dup_kind: str | None
    duplicate_of: str | None
    is_canonical: bool


class Story(BaseModel):
    story_id: str
    canonical_id: str
    languages: list[str]
    articles: list[StoryMember] = Field(description="canonical first")


class SearchHit(ArticleRef):
    story_id: str | None
    score: float
    snippet: str | None


class SearchPage(BaseModel):
    query: str
    offset: int = Field(description="the offset of the first result in the whole ranking")
    limit: int
    results: list[SearchHit]
    next_offset: int | None = Field(description="pass as `offset` for the next page; null on the last page")


class StorySummary(BaseModel):
    story_id: str
    copies: int
    languages: list[str]
    kinds: list[str] = Field(description="`exact`, `near`, `translation` among the members")
    canonical_id: str | None
    title: str | None
    source_domain: str | None
    language: str | None
    first_seen: str | None
    last_seen: str | None


class StoryIndex(BaseModel):
    total: int
    limit: int
    offset: int
    stories: list[StorySummary]


class FeedHealth(BaseModel):
    url: str
    name: str | None = None
    language: str | None = None
    health: str | None = None
    parked: bool | None = None
    consecutive_errors: int | None = None
    total_errors: int | None = None
    total_polls: int | None = None
    last_status: int | None = None
    last_outcome: str | None = None
    last_reason: str | None = None
    last_attempt_at: str | None = None
    last_success_at: str | None = None
    next_poll_at: str | None = None
    attempts_7d: int | None = None
    errors_7d: int | None = None
    error_rate_7d: float | None = None
    entries_7d: int | None = None
    median_ms_7d: float | None = None


class Correction(BaseModel):
    correction_id: str
    action: str = Field(description="split | join")
    article_id: str
    others: list[str] = Field(description="split: the story's other members then; join: the target story's members")
    editor: str
    at: str = Field(description="when, ISO 8601 UTC")
    note: str = ""


class CorrectionAccepted(BaseModel):
    correction: Correction
    applies: str = Field(description="when the correction takes effect")


class FeedHealthList(BaseModel):
    feeds: list[FeedHealth]


HTML = {"text/html": {"schema": {"type": "string"}}}  # the page a browser gets (``Accept: text/html``)


def responses(*codes: int, ok: type[BaseModel] | None = None, html: bool = False) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: ``ok`` for 200 (``html``: or a page for browsers) and the
    documented error statuses."""
    text = {304: "not modified (the `If-None-Match` tag matches)", 404: "unknown id",
            422: "a parameter was refused", 503: "the warehouse is not loaded yet or unreachable"}
    out: dict[int | str, dict[str, Any]] = {}
    if ok is not None:
        out[200] = {"model": ok, **({"content": HTML} if html else {})}
    for code in codes:
        if code == 304:
            out[code] = {"description": text[code]}
        else:
            out[code] = {"model": ValidationFailure if code == 422 else Error, "description": text[code]}
    return out
