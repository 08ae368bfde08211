-- The rows the search index needs for the given articles (%(ids)s: a list).
SELECT article_id, story_id, language, source_domain, floor(extract(epoch FROM published_at))::bigint AS published_s, title, body_text
FROM articles WHERE article_id = ANY(%(ids)s::text[]) ORDER BY article_id;
