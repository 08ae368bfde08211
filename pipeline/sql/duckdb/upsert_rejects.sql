-- Merge one run's rejects (staged table `staged_rejects`); the newest run wins per key.
INSERT INTO rejects (stage, url, reason, detail, last_run)
SELECT stage, url, reason, detail, run_ts FROM staged_rejects
ON CONFLICT (stage, url, reason) DO UPDATE SET
    detail = excluded.detail,
    last_run = greatest(rejects.last_run, excluded.last_run);
