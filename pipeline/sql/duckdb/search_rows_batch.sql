-- The rows (with what a hit shows: title, url, date, body for the snippet) the search index needs for one loaded batch ($batch_id), current story included.
SELECT article_id, story_id, language, source_domain, url, published_at, floor(epoch(published_at))::BIGINT AS published_s, title, body_text
FROM articles WHERE batch_id = $batch_id ORDER BY article_id;
