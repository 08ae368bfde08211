"""Read-side queries for the CLI and the HTTP API, on short read-only connections.

Both backends answer the same calls (``search``, ``related_for``, ``article``); DuckDB
connections are opened read-only per call so readers never hold the file against writers.
Search input is untrusted: it is folded and analysed into terms for the search engine
(``pipeline.search``; it never reaches SQL), and anything unusable becomes a
:class:`SearchError` with a plain message.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pipeline.config import Settings
from pipeline.warehouse.backend import Backend, WarehouseError, open_backend, warehouse_exists
from pipeline.warehouse.searchtext import fold

MAX_QUERY_CHARS = 20_000  # longer input is refused with a clear error
MAX_QUERY_TERMS = 64  # the first distinct terms are searched; the rest would only cost time
MAX_LIMIT = 1000


class WarehouseUnavailable(RuntimeError):
    """The warehouse or its tables do not exist yet (run ``newsflow run`` first), or it is busy."""


class SearchError(ValueError):
    """A search request that cannot be answered as asked (too long, bad filter value)."""


def _missing_table(exc: BaseException) -> bool:
    name = type(exc).__name__
    return name in {"CatalogException", "UndefinedTable", "InvalidSchemaName", "UndefinedFunction"}


@contextlib.contextmanager
def _reader(settings: Settings) -> Iterator[Backend]:
    if not warehouse_exists(settings):
        raise WarehouseUnavailable(f"no warehouse at {settings.duckdb_path}; run `newsflow run` first")
    try:
        with open_backend(settings, read_only=True) as be:
            yield be
    except WarehouseError as exc:
        raise WarehouseUnavailable(str(exc)) from exc
    except Exception as exc:
        if _missing_table(exc):
            from pipeline.redact import redact_url

            raise WarehouseUnavailable(f"warehouse {redact_url(settings.warehouse)} is not loaded yet") from exc
        raise


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
    body: str = field(repr=False)
    words: list[str] = field(repr=False)  # the query's folded words (what the snippet looks for)
    matched_via: str | None = None  # set when the hit came in through a matching story member

    @functools.cached_property
    def snippet(self) -> str:
        """Made when read: a page of the API asks for the hits before it (``offset``) and one
        after (is there a next page?), which it never shows."""
        return _snippet(self.body, self.words)


_FOLDED: dict[str, str] = {}  # raw word -> folded word (news vocabularies are Zipfian)


def _folded(word: str) -> str:
    out = _FOLDED.get(word)
    if out is None:
        if len(_FOLDED) > 200_000:
            _FOLDED.clear()
        out = _FOLDED[word] = fold(word)
    return out


def _snippet(body: str, terms: list[str], width: int = 160) -> str:
    """``width`` characters of ``body`` around the first word containing a query word (the
    earliest query word that any body word contains), else its start.  Word by word through a
    memo of folded words (folding whole bodies was 0.15 ms a hit, and a position in the folded
    text, shorter once diacritics and invisibles go, is not a position in ``body``); the
    search runs over the folded words joined by NUL, so it is one C-level ``find`` per term
    (a word-by-word Python loop was 0.18 ms a hit), and the word's place in ``body`` is one
    more C-level split (a regex walk to it was a fifth of the snippet's time).

    Words are folded in growing runs (32, 64, 128 ...) only until the first query word is
    found: a hit's word is usually near the start, and real articles run to 600 words on
    average (folding them whole was 120-190 µs a snippet)."""
    words = body.split()
    joined, done, run = "", 0, _SNIPPET_RUN
    pos = -1
    for term in terms if words else ():
        at = joined.find(term)
        while at < 0 and done < len(words):
            part = words[done:done + run]
            folded = list(map(_FOLDED.get, part))
            if None in folded:
                folded = [f if f is not None else _folded(w) for f, w in zip(folded, part, strict=True)]
            start = len(joined) + 1 if joined else 0  # a term holds no NUL: a match lies inside one word
            joined = "\x00".join([joined, *folded] if joined else folded)
            done, run = done + len(part), run * 2
            at = joined.find(term, start)
        if at >= 0:
            # where that word starts in ``body``: the rest after splitting off the words before it
            pos = len(body) - len(body.split(None, joined.count("\x00", 0, at))[-1])
            break
    if pos >= 0:
        start = max(0, pos - width // 3)
        return ("…" if start else "") + body[start : start + width].replace("\n", " ") + "…"
    return body[:width].replace("\n", " ") + ("…" if len(body) > width else "")


_SNIPPET_RUN = 32


def _when(value: datetime | date | str | None, name: str) -> datetime | None:
    """A filter bound as an aware UTC datetime (naive values are UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise SearchError(f"{name}: {value[:40]!r} is not an ISO date (YYYY-MM-DD[THH:MM])") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def prepare_query(query: str) -> list[str]:
    """The query's words as the documents were folded: at most MAX_QUERY_TERMS distinct ones."""
    if not isinstance(query, str):
        raise SearchError("the query must be text")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(f"query too long: {len(query)} characters (at most {MAX_QUERY_CHARS})")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: drop what cannot be text
        query = query.encode("utf-8", "ignore").decode("utf-8")
    from pipeline.search.analysis import query_words

    return query_words(query, MAX_QUERY_TERMS)


def _filter_text(value: str | None, name: str) -> str | None:
    """A language/outlet filter as a safe parameter: text, short, no NUL, valid Unicode."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 255 or "\x00" in value:
        raise SearchError(f"{name}: expected a short text value")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise SearchError(f"{name}: not valid Unicode text") from None
    return value.strip()


def _passes(hit: SearchHit, language: str | None, outlet: str | None, since: datetime | None, until: datetime | None) -> bool:
    if language and hit.language != language:
        return False
    if outlet and hit.source_domain != outlet:
        return False
    if since and (hit.published_at is None or hit.published_at < since):
        return False
    return not (until and (hit.published_at is None or hit.published_at >= until))


def _engine(settings: Settings):
    """The search index reader (pulling a newer published version first on replicas)."""
    from pipeline.search.index import reader
    from pipeline.search.sync import index_path

    path = index_path(settings)
    if settings.search_replica:
        from pipeline.search.publish import maybe_pull

        maybe_pull(settings, path)
    return reader(path)


def search(
    settings: Settings,
    query: str,
    *,
    language: str | None = None,
    outlet: str | None = None,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    limit: int = 10,
    expand: bool = False,
    collapse: bool = False,
) -> list[SearchHit]:
    """BM25 through the search engine (``pipeline.search``), newest first on ties; the
    warehouse gives the hits' rows (titles, snippets, current story ids).

    ``collapse``: one hit per story (its best-ranked member).  ``expand``: each hit brings
    the other members of its story (copies, translations) right after it, so an English
    query surfaces the Arabic translation of a matching article and the reverse; filters
    then apply to what is shown (``language="ar"`` with an English query lists the Arabic
    translations of the English matches).
    """
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}")
    lo, hi = _when(since, "since"), _when(until, "until")
    language, outlet = _filter_text(language, "language"), _filter_text(outlet, "outlet")
    words = prepare_query(query)
    if not words:
        return []
    if not warehouse_exists(settings):
        raise WarehouseUnavailable(f"no warehouse at {settings.duckdb_path}; run `newsflow run` first")
    engine = _engine(settings)
    if expand:
        found = engine.search(words, limit=min(MAX_LIMIT, max(limit * 5, 50)), collapse=True)
    else:
        found = engine.search(words, language=language, outlet=outlet, since=lo, until=hi, limit=limit,
                              collapse=collapse)
    if not found:
        return []
    # what a hit shows is stored in the index beside its terms (kept current with the
    # warehouse by pipeline.search.sync): no warehouse read for a plain search
    from pipeline.search.hits import hit_fields

    ranked = [({**hit_fields(h.stored), "article_id": h.article_id, "story_id": h.story_id}, h.score) for h in found]
    members: dict[str, list[dict]] = {}
    story_ids = sorted({r["story_id"] for r, _ in ranked if r["story_id"]})
    if expand and story_ids:
        with _reader(settings) as be:  # the members (current stories), in order; their hits from the index
            order = be.query_keys("story_members", "story_ids", story_ids)
            stored = engine.stored([m["article_id"] for m in order])
            lagging = [m["article_id"] for m in order if m["article_id"] not in stored]  # loaded, not yet indexed
            rows = {r["article_id"]: r for r in be.query_keys("search_rows_ids", "ids", lagging)} if lagging else {}
        for m in order:
            aid = m["article_id"]
            row = {**hit_fields(stored[aid]), "article_id": aid} if aid in stored else rows.get(aid)
            if row is not None:
                members.setdefault(m["story_id"], []).append({**row, "story_id": m["story_id"]})

    def hit(r: dict, score: float, via: str | None) -> SearchHit:
        return SearchHit(r["article_id"], r["title"], r["url"], r["source_domain"], r["language"],
                         r["published_at"], r["story_id"], score, r["body_text"] or "", words, via)

    if not expand:
        return [hit(r, score, None) for r, score in ranked]
    out: list[SearchHit] = []
    seen: set[str] = set()
    for r, score in ranked:
        group = [hit(r, score, None)]
        group += [hit(m, score, r["article_id"]) for m in members.get(r["story_id"], [])]
        for h in group:
            if h.article_id not in seen and _passes(h, language, outlet, lo, hi):
                seen.add(h.article_id)
                out.append(h)
    return out[:limit]


def related_for(settings: Settings, article_id: str, *, k: int = 10, language: str | None = None) -> list[dict] | None:
    """The related list of ``article_id`` (None when the article is unknown)."""
    with _reader(settings) as be:
        if not be.query("article", {"article_id": article_id}):
            return None
        rows = be.query("related_for", {"article_id": article_id, "lang": language, "limit": int(k)})
    for r in rows:
        if isinstance(r.get("published_at"), datetime):
            r["published_at"] = r["published_at"].isoformat()
        r["score"] = round(float(r["score"]), 6)
    return rows


def article(settings: Settings, article_id: str) -> dict | None:
    with _reader(settings) as be:
        rows = be.query("article", {"article_id": article_id})
    return rows[0] if rows else None
