-- Article metadata the API serves from memory (no bodies).
SELECT article_id, title, url, source_domain, language, published_at, story_id, duplicate_of, dup_kind
FROM articles
ORDER BY article_id;
