-- Rows of each batch of one kind in the load ledger ($kind), for progress and pool sizing.
SELECT batch_id, rows FROM load_ledger WHERE kind = $kind;
