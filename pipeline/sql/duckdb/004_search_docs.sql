-- Warehouse migration 004 (issue 6): the search documents, one row per article, kept
-- beside `articles` by every load (text normalized in Python so Arabic letter variants and
-- digit systems match).  The BM25 indexes are rebuilt from it (rebuild_search.sql).
CREATE TABLE IF NOT EXISTS search_docs (
    article_id   VARCHAR PRIMARY KEY,
    lang_group   VARCHAR NOT NULL,             -- en | ar | other: one analyzer each
    content_hash VARCHAR,
    doc          VARCHAR
);
