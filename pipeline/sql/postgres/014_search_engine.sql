-- Warehouse migration 014 (issue 15): search moves to a dedicated engine (tantivy, beside the
-- warehouse: pipeline/search/); the hand-written postings, their statistics and the
-- search documents go (811 MB of 1,093 MB at 50,000 articles).  Analysts who want SQL full
-- text turn on the optional tsvector column (fts_enable.sql, sql/README.md).
-- The index catches up from load_ledger (by batch_id, hence the index) and from
-- search_queue: articles whose story_id a dedup generation changed, written in the same
-- transaction as the change, removed once the index has committed them.
DROP VIEW IF EXISTS search_terms;
DROP TABLE IF EXISTS search_postings;
DROP TABLE IF EXISTS search_stats;
DROP TABLE IF EXISTS search_docs;
CREATE TABLE IF NOT EXISTS search_queue (
    article_id TEXT PRIMARY KEY,
    story_id   TEXT
);
CREATE INDEX IF NOT EXISTS articles_batch_id ON articles (batch_id);
