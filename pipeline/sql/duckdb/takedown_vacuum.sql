-- After a takedown: write the deletions to the file (the caller then rewrites the file so
-- freed blocks holding the deleted rows are gone: pipeline.warehouse.takedown).
CHECKPOINT;
