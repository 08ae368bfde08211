-- Twin of sql/duckdb/dedup_clear.sql (PostgreSQL does not need it: apply_dedup.sql runs
-- its delete and insert in one transaction there).
DELETE FROM article_links;
DELETE FROM stories;
