-- Warehouse migration 008 (issue 6): postings with impacts beside the GIN index, so BM25
-- never ranks every document a common term matches.
-- Why: with only the GIN index, a query holding a term found in half the corpus made
-- search.sql read and rank half the tsvectors (seconds at 20,000 articles).  Each posting
-- keeps its term's BM25 weight in that document (`impact`: the tf part with length
-- normalization, from the mean length known when it was written); search.sql takes the
-- best postings of each term through the (lang_group, lexeme, impact) index plus the GIN
-- matches of all terms together, then scores those candidates exactly.
CREATE TABLE IF NOT EXISTS search_postings (
    lang_group TEXT NOT NULL,      -- en | ar | other
    lexeme     TEXT NOT NULL,      -- from the group's text-search configuration
    article_id TEXT NOT NULL,
    tf         INTEGER NOT NULL,   -- occurrences of the lexeme in the document
    doc_len    INTEGER NOT NULL,   -- lexeme occurrences the document keeps
    impact     REAL NOT NULL       -- tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc_len / avg_len))
);
-- One index serves both reads of search.sql: a term's best postings (its first entries) and
-- a term's whole list (joined with the candidates).  (lang_group, lexeme, article_id) is
-- unique by construction (a tsvector lists each lexeme once); no second index enforces it.
CREATE INDEX IF NOT EXISTS search_postings_impact
    ON search_postings (lang_group, lexeme, impact DESC) INCLUDE (article_id, tf, doc_len);
CREATE INDEX IF NOT EXISTS search_postings_article ON search_postings (article_id);

-- Document frequencies now come from the postings (kept by every load, never recomputed whole).
DROP TABLE IF EXISTS search_terms;
CREATE OR REPLACE VIEW search_terms AS
SELECT lang_group, lexeme, count(*)::INTEGER AS df FROM search_postings GROUP BY lang_group, lexeme;
