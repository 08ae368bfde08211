-- The takedown's audit row (idempotent: the same request recorded twice is one row).
INSERT INTO takedowns (takedown_id, article_id, url, canonical_url, content_hashes, reason, requested_by, requested_at, summary)
VALUES (%(takedown_id)s, %(article_id)s, %(url)s, %(canonical_url)s, %(content_hashes)s, %(reason)s, %(requested_by)s, %(requested_at)s, %(summary)s)
ON CONFLICT (takedown_id) DO UPDATE SET summary = excluded.summary;
