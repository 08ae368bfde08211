-- The warehouse rows of search hits ($ids: the engine's article ids), for titles and snippets.
-- `= ANY` looks the ids up in the primary key (list_contains or IN (unnest) scan the table).
SELECT article_id, title, url, source_domain, language, published_at, story_id, body_text
FROM articles WHERE article_id = ANY($ids);
