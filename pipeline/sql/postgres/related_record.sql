-- Record the generation the warehouse now holds.
INSERT INTO related_state (singleton, generation, dedup_generation, canonicals, rows, lists_changed, min_score, refreshed_at)
VALUES (1, %(generation)s, %(dedup_generation)s, %(canonicals)s, %(rows)s, %(lists_changed)s, %(min_score)s, %(refreshed_at)s)
ON CONFLICT (singleton) DO UPDATE SET generation = excluded.generation,
    dedup_generation = excluded.dedup_generation, canonicals = excluded.canonicals,
    rows = excluded.rows, lists_changed = excluded.lists_changed, min_score = excluded.min_score, refreshed_at = excluded.refreshed_at;
