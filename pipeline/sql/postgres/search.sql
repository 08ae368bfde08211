-- BM25 search (k1 = 1.2, b = 0.75, log10 idf, as DuckDB's search.sql) over per-language
-- analysis: English stemming, Arabic stemming, `simple` for the rest.  Any term may match (OR).
-- Candidates, never every match of a common term:
--   * the 1,000 best postings of each query term by impact (index-only scans of
--     search_postings_impact, whatever the term's document frequency), and
--   * up to 1,000 documents holding every query term (GIN over tsvector, filters applied);
-- each candidate is then scored exactly from its postings.  One index,
-- (lang_group, lexeme, impact DESC) INCLUDE (article_id, tf, doc_len), serves every read.
-- Filters are NULL for "all": lang, outlet (source_domain), since / until (published_at).
WITH cfg (lang_group, cfg) AS (
    VALUES ('en', 'english'::regconfig), ('ar', 'arabic'::regconfig), ('other', 'simple'::regconfig)
),
qterms AS MATERIALIZED (
    SELECT DISTINCT c.lang_group, u.lexeme FROM cfg c CROSS JOIN LATERAL unnest(to_tsvector(c.cfg, %(query)s)) u
),
df AS MATERIALIZED (  -- once per term, not once per candidate
    SELECT t.lang_group, t.lexeme,
           (SELECT count(*) FROM search_postings p WHERE p.lang_group = t.lang_group AND p.lexeme = t.lexeme) AS df
    FROM qterms t
),
best AS (
    SELECT t.lang_group, b.article_id
    FROM qterms t
    CROSS JOIN LATERAL (
        SELECT p.article_id FROM search_postings p
        WHERE p.lang_group = t.lang_group AND p.lexeme = t.lexeme
        ORDER BY p.impact DESC LIMIT 1000
    ) b
),
every_term AS (
    SELECT d.lang_group, d.article_id
    FROM cfg c
    JOIN search_docs d ON d.lang_group = c.lang_group AND d.tsv @@ plainto_tsquery(c.cfg, %(query)s)
    JOIN articles a ON a.article_id = d.article_id
    WHERE numnode(plainto_tsquery(c.cfg, %(query)s)) > 0
      AND (%(lang)s::text IS NULL OR a.language = %(lang)s::text)
      AND (%(outlet)s::text IS NULL OR a.source_domain = %(outlet)s::text)
      AND (%(since)s::timestamptz IS NULL OR a.published_at >= %(since)s::timestamptz)
      AND (%(until)s::timestamptz IS NULL OR a.published_at < %(until)s::timestamptz)
    LIMIT 1000
),
cand AS MATERIALIZED (
    SELECT lang_group, article_id FROM best UNION SELECT lang_group, article_id FROM every_term
),
scored AS (  -- each term's whole list read once (one index range), joined with the candidates
    SELECT p.article_id,
           sum(log(1 + (st.n_docs - df.df + 0.5) / (df.df + 0.5))
               * p.tf * 2.2 / (p.tf + 1.2 * (0.25 + 0.75 * p.doc_len / greatest(st.avg_len, 1)))) AS score
    FROM df
    JOIN search_postings p ON p.lang_group = df.lang_group AND p.lexeme = df.lexeme
    JOIN cand c ON c.lang_group = p.lang_group AND c.article_id = p.article_id
    JOIN search_stats st ON st.lang_group = p.lang_group
    GROUP BY p.article_id
)
SELECT a.article_id, a.title, a.url, a.source_domain, a.language, a.published_at, a.story_id,
       s.score, a.body_text
FROM scored s
JOIN articles a ON a.article_id = s.article_id
WHERE (%(lang)s::text IS NULL OR a.language = %(lang)s::text)
  AND (%(outlet)s::text IS NULL OR a.source_domain = %(outlet)s::text)
  AND (%(since)s::timestamptz IS NULL OR a.published_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR a.published_at < %(until)s::timestamptz)
ORDER BY s.score DESC, a.published_at DESC NULLS LAST, a.article_id
LIMIT %(limit)s;
