-- BM25 search over the per-language indexes (English: porter stemmer, Arabic: arabic
-- stemmer, others: none).  $1 query (normalized like the documents), $2 language filter
-- (NULL for all), $3 outlet filter (NULL for all), $4 limit.
WITH hits AS (
    SELECT article_id, fts_main_search_docs_en.match_bm25(article_id, $1) AS score FROM search_docs_en
    UNION ALL
    SELECT article_id, fts_main_search_docs_ar.match_bm25(article_id, $1) FROM search_docs_ar
    UNION ALL
    SELECT article_id, fts_main_search_docs_other.match_bm25(article_id, $1) FROM search_docs_other
)
SELECT a.article_id, a.title, a.url, a.source_domain, a.language, a.published_at, a.story_id,
       h.score, a.body_text
FROM hits h
JOIN articles a USING (article_id)
WHERE h.score IS NOT NULL
  AND ($2 IS NULL OR a.language = $2)
  AND ($3 IS NULL OR a.source_domain = $3)
ORDER BY h.score DESC, a.published_at DESC, a.article_id
LIMIT $4;
