-- Copy one staged fetch-attempt batch (`staged_fetch_attempts`) into `fetch_attempts`.
INSERT INTO fetch_attempts (batch_id, seq, run_ts, kind, feed_url, url, final_url, attempted_at, outcome, status, reason, detail, elapsed_ms, bytes, body_sha256, entries, consecutive_errors, next_poll_at, parked)
SELECT batch_id, seq, run_ts, kind, feed_url, url, final_url, attempted_at, outcome, status, reason, detail, elapsed_ms, bytes, body_sha256, entries, consecutive_errors, next_poll_at, parked FROM staged_fetch_attempts;
