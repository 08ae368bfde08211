-- Warehouse migration 014 (issue 15): search moves to a dedicated engine (tantivy, beside the
-- warehouse: pipeline/search/); the hand-written postings and their tables go.
-- Why: the postings SQL took 68% of DuckDB load time and most of its search latency; the
-- engine indexes the same analysis 10x faster and answers in well under a millisecond.
-- The index catches up from load_ledger (the batches it holds are recorded beside it) and
-- from search_queue: articles whose story_id a dedup generation changed, written in the
-- same transaction as the change, removed once the index has committed them.
DROP TABLE IF EXISTS search_postings;
DROP TABLE IF EXISTS search_stats;
DROP TABLE IF EXISTS search_stopwords;
DROP TABLE IF EXISTS search_docs;
CREATE TABLE IF NOT EXISTS search_queue (
    article_id VARCHAR PRIMARY KEY,
    story_id   VARCHAR          -- the story the change set; the index clears the row once it holds it
);
