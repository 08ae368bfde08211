-- Refresh the corpus statistics BM25 needs (the GIN index itself is maintained by every
-- upsert).  Run under the 'search' advisory lock so concurrent loads do not interleave.
DELETE FROM search_terms;
INSERT INTO search_terms (lang_group, lexeme, df)
SELECT d.lang_group, u.lexeme, count(*) FROM search_docs d CROSS JOIN LATERAL unnest(d.tsv) u
GROUP BY d.lang_group, u.lexeme;
DELETE FROM search_stats;
INSERT INTO search_stats (lang_group, n_docs, avg_len)
SELECT lang_group, count(*), coalesce(avg(doc_len), 0) FROM search_docs GROUP BY lang_group;
