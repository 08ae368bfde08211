-- Warehouse migration 017 (issue 15): fewer bytes per article on PostgreSQL.
-- Why: warehouse plus search index must stay under 1.5 times the raw text; PostgreSQL was
-- at 2.2x at 50,000 articles (DuckDB compresses its columns: 0.9x).
-- * Two secondary indexes on `articles` served the SQL search that migration 014 removed;
--   nothing queries them now (search filters run in the engine, the API reads snapshots),
--   and every load paid to maintain them.  Analysts filtering on `published_at` scan, as
--   they would for any other column.
-- * `duplicate_of` is set on copies only: a partial index holds just those rows (the
--   takedown's `WHERE duplicate_of = ...` and "copies of X" still use it).
-- * Text columns compress with lz4 instead of pglz: faster to write and read.  PostgreSQL
--   compresses only rows over about 2 KB (TOAST_TUPLE_THRESHOLD, fixed at build time), so
--   this helps long articles; short ones (the bench's 1.2 KB) are stored as they are.
DROP INDEX IF EXISTS articles_published_at;
DROP INDEX IF EXISTS articles_source_language;
DROP INDEX IF EXISTS articles_duplicate_of;
CREATE INDEX IF NOT EXISTS articles_duplicate_of_copies ON articles (duplicate_of) WHERE duplicate_of IS NOT NULL;
ALTER TABLE articles ALTER COLUMN title SET COMPRESSION lz4;
ALTER TABLE articles ALTER COLUMN summary SET COMPRESSION lz4;
ALTER TABLE articles ALTER COLUMN body_text SET COMPRESSION lz4;
ALTER TABLE articles ALTER COLUMN anchors SET COMPRESSION lz4;
