-- Warehouse migration 004 (issue 6): search documents with a tsvector per language group
-- (english / arabic / simple configurations) under a GIN index, plus the term and corpus
-- statistics BM25 needs (PostgreSQL has no BM25 of its own; search.sql computes it).
CREATE TABLE IF NOT EXISTS search_docs (
    article_id   TEXT PRIMARY KEY,
    lang_group   TEXT NOT NULL,                -- en | ar | other
    content_hash TEXT,
    doc          TEXT,
    tsv          TSVECTOR,
    doc_len      INTEGER                       -- tokens kept by the analyzer
);
CREATE INDEX IF NOT EXISTS search_docs_tsv ON search_docs USING gin (tsv);

CREATE TABLE IF NOT EXISTS search_terms (
    lang_group TEXT NOT NULL,
    lexeme     TEXT NOT NULL,
    df         INTEGER NOT NULL,               -- documents containing the lexeme
    PRIMARY KEY (lang_group, lexeme)
);

CREATE TABLE IF NOT EXISTS search_stats (
    lang_group TEXT PRIMARY KEY,
    n_docs     INTEGER NOT NULL,
    avg_len    DOUBLE PRECISION NOT NULL
);

CREATE INDEX IF NOT EXISTS articles_story_id ON articles (story_id);
CREATE INDEX IF NOT EXISTS articles_duplicate_of ON articles (duplicate_of);
CREATE INDEX IF NOT EXISTS articles_published_at ON articles (published_at);
CREATE INDEX IF NOT EXISTS articles_source_language ON articles (source_domain, language);
