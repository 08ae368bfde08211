-- BM25 search (k1 = 1.2, b = 0.75, log10 idf, as PostgreSQL's search.sql) over our own postings
-- (008_search_postings.sql), per analyzer group: the query is folded like the documents and
-- each token stemmed per group (porter for English, arabic, none for the rest); any term may
-- match (OR).  Filters are NULL for "all": $lang, $outlet (source_domain), $since / $until
-- (published_at, inclusive / exclusive).
WITH qterms AS (
    SELECT DISTINCT g.lang_group,
           stem(t.token, CASE g.lang_group WHEN 'en' THEN 'porter' WHEN 'ar' THEN 'arabic' ELSE 'none' END) AS term
    FROM unnest(string_split($query, ' ')) AS t(token)
    CROSS JOIN (VALUES ('en'), ('ar'), ('other')) AS g(lang_group)
    WHERE t.token <> ''
      AND NOT EXISTS (SELECT 1 FROM search_stopwords w WHERE w.lang_group = g.lang_group AND w.word = t.token)
),
hits AS (
    SELECT p.lang_group, p.term, p.article_id, p.tf, p.doc_len
    FROM search_postings p
    JOIN qterms q ON q.lang_group = p.lang_group AND q.term = p.term
),
df AS (
    SELECT lang_group, term, count(*) AS df FROM hits GROUP BY lang_group, term
),
scored AS (
    SELECT h.article_id,
           sum(log(1 + (st.n_docs - df.df + 0.5) / (df.df + 0.5))
               * h.tf * 2.2 / (h.tf + 1.2 * (0.25 + 0.75 * h.doc_len / greatest(st.avg_len, 1)))) AS score
    FROM hits h
    JOIN df USING (lang_group, term)
    JOIN search_stats st USING (lang_group)
    GROUP BY h.article_id
),
best AS (  -- the ranking reads only light columns; bodies (for snippets) only for the winners
    SELECT s.article_id, s.score, a.published_at
    FROM scored s
    JOIN articles a USING (article_id)
    WHERE ($lang IS NULL OR a.language = $lang)
      AND ($outlet IS NULL OR a.source_domain = $outlet)
      AND ($since IS NULL OR a.published_at >= $since)
      AND ($until IS NULL OR a.published_at < $until)
    ORDER BY s.score DESC, a.published_at DESC NULLS LAST, a.article_id
    LIMIT $limit
)
SELECT a.article_id, a.title, a.url, a.source_domain, a.language, a.published_at, a.story_id,
       b.score, a.body_text
FROM best b
JOIN articles a USING (article_id)
ORDER BY b.score DESC, b.published_at DESC NULLS LAST, a.article_id;
