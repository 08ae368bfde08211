-- Every article for a rebuild of the search index, one page at a time (keyset: $after, $limit).
SELECT article_id, story_id, language, source_domain, url, published_at, floor(epoch(published_at))::BIGINT AS published_s, title, body_text
FROM articles WHERE article_id > $after ORDER BY article_id LIMIT $limit;
