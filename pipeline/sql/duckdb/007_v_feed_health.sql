-- Warehouse migration 007 (issue 6): feed health at a glance, over the tables of migration
-- 002 (feed ingestion).  One row per registered feed: its state, and its feed fetches over
-- the last 7 days of data (relative to the newest attempt, so old warehouses answer too).
CREATE OR REPLACE VIEW v_feed_health AS
WITH recent AS (
    SELECT feed_url,
           count(*) AS attempts_7d,
           count(*) FILTER (WHERE outcome = 'ok') AS ok_7d,
           count(*) FILTER (WHERE outcome = 'not_modified') AS not_modified_7d,
           count(*) FILTER (WHERE outcome = 'error') AS errors_7d,
           sum(coalesce(entries, 0)) AS entries_7d,
           median(elapsed_ms) AS median_ms_7d,
           max(attempted_at) FILTER (WHERE outcome = 'error') AS last_error_at
    FROM fetch_attempts
    WHERE kind = 'feed'
      AND attempted_at >= (SELECT max(attempted_at) FROM fetch_attempts) - INTERVAL '7 days'
    GROUP BY feed_url
)
SELECT f.url, f.name, f.language, f.health, f.parked, f.consecutive_errors, f.total_errors,
       f.total_polls, f.last_status, f.last_outcome, f.last_reason, f.last_attempt_at,
       f.last_success_at, f.last_new_entries_at, f.next_poll_at,
       coalesce(r.attempts_7d, 0) AS attempts_7d, coalesce(r.ok_7d, 0) AS ok_7d,
       coalesce(r.not_modified_7d, 0) AS not_modified_7d, coalesce(r.errors_7d, 0) AS errors_7d,
       CASE WHEN r.attempts_7d > 0 THEN round(r.errors_7d::numeric / r.attempts_7d, 3) END AS error_rate_7d,
       coalesce(r.entries_7d, 0) AS entries_7d, r.median_ms_7d, r.last_error_at
FROM feeds f
LEFT JOIN recent r ON r.feed_url = f.url;
