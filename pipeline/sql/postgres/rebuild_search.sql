-- Refresh the corpus statistics BM25 reads (documents and mean length per analyzer group);
-- the GIN index and the postings are maintained by every load (upsert_search_docs.sql).
DELETE FROM search_stats;
INSERT INTO search_stats (lang_group, n_docs, avg_len)
SELECT lang_group, count(*), coalesce(avg(doc_len), 0) FROM search_docs GROUP BY lang_group;
-- Fresh planner statistics: a term's postings grow with every load, and stale estimates
-- turn the per-term lookups of search.sql into bitmap scans of whole posting lists.
ANALYZE search_postings;
ANALYZE search_docs;
