-- What the API's snapshot was built from: the related generation and the load ledger.
SELECT (SELECT generation FROM related_state WHERE singleton = 1) AS related_generation,
       (SELECT min_score FROM related_state WHERE singleton = 1) AS min_score,
       (SELECT count(*) FROM load_ledger) AS loads,
       (SELECT max(loaded_at) FROM load_ledger) AS last_load;
