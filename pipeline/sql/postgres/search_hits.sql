-- The warehouse rows of search hits (%(ids)s: the engine's article ids), for titles and snippets.
SELECT article_id, title, url, source_domain, language, published_at, story_id, body_text
FROM articles WHERE article_id = ANY(%(ids)s::text[]);
