-- The rows (with what a hit shows: title, url, date, body for the snippet) the search index needs for the given articles (%(ids)s: a list).
SELECT article_id, story_id, language, source_domain, url, published_at, floor(extract(epoch FROM published_at))::bigint AS published_s, title, body_text
FROM articles WHERE article_id = ANY(%(ids)s::text[]) ORDER BY article_id;
