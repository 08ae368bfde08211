-- Record one merged batch (in the same transaction as its rows).
INSERT INTO load_ledger (kind, batch_id, rows, loaded_at) VALUES (%(kind)s, %(batch_id)s, %(rows)s, %(loaded_at)s)
ON CONFLICT (kind, batch_id) DO UPDATE SET rows = excluded.rows, loaded_at = excluded.loaded_at;
