-- Record the generation the warehouse now holds.
INSERT OR REPLACE INTO related_state (singleton, generation, dedup_generation, canonicals, rows, lists_changed, min_score, refreshed_at)
VALUES (1, $generation, $dedup_generation, $canonicals, $rows, $lists_changed, $min_score, $refreshed_at);
