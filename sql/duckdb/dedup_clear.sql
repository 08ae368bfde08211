-- Empty the dedup-derived tables before re-applying a generation.  Only used on DuckDB,
-- which rejects deleting and re-inserting one primary key inside a single transaction
-- ("duplicate key" from apply_dedup.sql): this delete is committed first.  A failure
-- before the re-apply leaves the generation out of the ledger, so the next load redoes it.
DELETE FROM article_links;
DELETE FROM stories;
