-- The API's /metrics: per kind, the batches and rows of the latest load (the last run's counts).
SELECT l.kind, count(*) AS batches, coalesce(sum(l.rows), 0) AS rows
FROM load_ledger l
JOIN (SELECT kind, max(loaded_at) AS at FROM load_ledger GROUP BY kind) m
  ON m.kind = l.kind AND m.at = l.loaded_at
GROUP BY l.kind
ORDER BY l.kind;
