-- The twin of PostgreSQL's VACUUM FULL after a takedown.  On DuckDB the caller rewrites the
-- file without the freed blocks that still hold deleted rows (pipeline.warehouse.takedown.scrub
-- through pipeline.warehouse.compact); a checkpoint is all this statement does.
CHECKPOINT;
