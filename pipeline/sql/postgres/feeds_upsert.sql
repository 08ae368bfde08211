-- Mirror the lake's feed states (staged as `staged_feeds`) into `feeds`; the lake wins.
INSERT INTO feeds (url, name, language, current_url, health, etag, last_modified, last_status, last_outcome, last_reason, last_error, consecutive_errors, total_errors, total_polls, next_poll_at, last_attempt_at, last_success_at, last_new_entries_at, last_entries, ttl_minutes, parked, parked_at, mirrored_at)
SELECT url, name, language, current_url, health, etag, last_modified, last_status, last_outcome, last_reason, last_error, consecutive_errors, total_errors, total_polls, next_poll_at, last_attempt_at, last_success_at, last_new_entries_at, last_entries, ttl_minutes, parked, parked_at, mirrored_at FROM staged_feeds
ON CONFLICT (url) DO UPDATE SET
    name = excluded.name, language = excluded.language, current_url = excluded.current_url,
    health = excluded.health, etag = excluded.etag, last_modified = excluded.last_modified,
    last_status = excluded.last_status, last_outcome = excluded.last_outcome,
    last_reason = excluded.last_reason, last_error = excluded.last_error,
    consecutive_errors = excluded.consecutive_errors, total_errors = excluded.total_errors,
    total_polls = excluded.total_polls, next_poll_at = excluded.next_poll_at,
    last_attempt_at = excluded.last_attempt_at, last_success_at = excluded.last_success_at,
    last_new_entries_at = excluded.last_new_entries_at, last_entries = excluded.last_entries,
    ttl_minutes = excluded.ttl_minutes, parked = excluded.parked, parked_at = excluded.parked_at,
    mirrored_at = excluded.mirrored_at;
