-- The warehouse rows of search hits ($ids: the engine's article ids), for titles and snippets.
-- Run through `query_keys`: DuckDB scans with a constant IN list (about 2 ms at 1M articles)
-- but hash-joins the whole table for a list parameter (11-17 ms), so the backend inlines
-- plain identifier ids as literals (see DuckDBBackend.query_keys).
SELECT article_id, title, url, source_domain, language, published_at, story_id, body_text
FROM articles WHERE article_id = ANY($ids);
