-- Every takedown, oldest first.
SELECT takedown_id, article_id, url, canonical_url, reason, requested_by, requested_at FROM takedowns
ORDER BY requested_at, takedown_id;
