-- Settings of a writing connection.  A bulk load's commits used to checkpoint every ~16 MB
-- of WAL, and each checkpoint rewrites the primary-key index of the whole `articles` table,
-- so a load slowed as the warehouse grew (8,900 rows/s at 40,000 articles; 26,000 without).
-- The WAL is checkpointed when the writer closes instead (DuckDB does that on close).
SET checkpoint_threshold = '1GB';
