-- Feed health page (pipeline/api/pages.py): every registered feed from v_feed_health,
-- the troubled first (parked, then by consecutive errors), then by URL.
SELECT url, name, language, health, parked, consecutive_errors, total_errors, total_polls,
       last_status, last_outcome, last_reason, last_attempt_at, last_success_at,
       next_poll_at, attempts_7d, errors_7d, error_rate_7d, entries_7d, median_ms_7d
FROM v_feed_health
ORDER BY parked DESC, consecutive_errors DESC, url;
