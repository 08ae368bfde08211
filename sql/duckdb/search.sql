-- BM25 search over the per-language indexes (English: porter stemmer, Arabic: arabic
-- stemmer, others: none).  $query is normalized like the documents; filters are NULL for
-- "all": $lang, $outlet (source_domain), $since / $until (published_at, inclusive / exclusive).
WITH hits AS (
    SELECT article_id, fts_main_search_docs_en.match_bm25(article_id, $query) AS score FROM search_docs_en
    UNION ALL
    SELECT article_id, fts_main_search_docs_ar.match_bm25(article_id, $query) FROM search_docs_ar
    UNION ALL
    SELECT article_id, fts_main_search_docs_other.match_bm25(article_id, $query) FROM search_docs_other
)
SELECT a.article_id, a.title, a.url, a.source_domain, a.language, a.published_at, a.story_id,
       h.score, a.body_text
FROM hits h
JOIN articles a USING (article_id)
WHERE h.score IS NOT NULL
  AND ($lang IS NULL OR a.language = $lang)
  AND ($outlet IS NULL OR a.source_domain = $outlet)
  AND ($since IS NULL OR a.published_at >= $since)
  AND ($until IS NULL OR a.published_at < $until)
ORDER BY h.score DESC, a.published_at DESC NULLS LAST, a.article_id
LIMIT $limit;
