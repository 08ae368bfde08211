-- BM25 search over one language group's index; $1 query (normalized), $2 language filter
-- (NULL for all), $3 outlet filter (NULL for all), $4 limit.
SELECT a.article_id, a.title, a.url, a.source_domain, a.language, a.published_at, a.story_id,
       s.score, a.body_text
FROM (
    SELECT article_id, fts_main_search_docs.match_bm25(article_id, $1) AS score
    FROM search_docs
) s
JOIN articles a USING (article_id)
WHERE s.score IS NOT NULL
  AND ($2 IS NULL OR a.language = $2)
  AND ($3 IS NULL OR a.source_domain = $3)
ORDER BY s.score DESC, a.article_id
LIMIT $4;
