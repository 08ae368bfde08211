-- BM25 search (k1 = 1.2, b = 0.75, log10 idf: the same scores as DuckDB's fts) over per-language tsvectors:
-- English stemming, Arabic stemming, `simple` for the rest; GIN finds the candidates.
-- The query is normalized like the documents; any term may match (OR), as in DuckDB.
-- Filters are NULL for "all": lang, outlet (source_domain), since / until (published_at).
WITH cfg (lang_group, cfg) AS (
    VALUES ('en', 'english'::regconfig), ('ar', 'arabic'::regconfig), ('other', 'simple'::regconfig)
),
q AS (
    SELECT lang_group, cfg, replace(plainto_tsquery(cfg, %(query)s)::text, '&', '|') AS tq FROM cfg
),
qterms AS (
    SELECT DISTINCT q.lang_group, u.lexeme FROM q CROSS JOIN LATERAL unnest(to_tsvector(q.cfg, %(query)s)) u
),
cand AS (
    SELECT d.article_id, d.lang_group, d.tsv, d.doc_len
    FROM q
    JOIN search_docs d ON d.lang_group = q.lang_group AND d.tsv @@ q.tq::tsquery
    JOIN articles a ON a.article_id = d.article_id
    WHERE q.tq <> ''
      AND (%(lang)s::text IS NULL OR a.language = %(lang)s::text)
      AND (%(outlet)s::text IS NULL OR a.source_domain = %(outlet)s::text)
      AND (%(since)s::timestamptz IS NULL OR a.published_at >= %(since)s::timestamptz)
      AND (%(until)s::timestamptz IS NULL OR a.published_at < %(until)s::timestamptz)
    -- very common terms match most documents: BM25 is computed exactly for the best 2,000
    -- by ts_rank (C code, cheap); the order among those is BM25's
    ORDER BY ts_rank(d.tsv, q.tq::tsquery) DESC
    LIMIT 2000
),
scored AS (
    SELECT c.article_id,
           sum(log(1 + (st.n_docs - tm.df + 0.5) / (tm.df + 0.5))
               * coalesce(cardinality(u.positions), 1) * 2.2
               / (coalesce(cardinality(u.positions), 1)
                  + 1.2 * (0.25 + 0.75 * c.doc_len / greatest(st.avg_len, 1)))) AS score
    FROM cand c
    CROSS JOIN LATERAL unnest(c.tsv) u
    JOIN qterms t ON t.lang_group = c.lang_group AND t.lexeme = u.lexeme
    JOIN search_terms tm ON tm.lang_group = c.lang_group AND tm.lexeme = u.lexeme
    JOIN search_stats st ON st.lang_group = c.lang_group
    GROUP BY c.article_id
)
SELECT a.article_id, a.title, a.url, a.source_domain, a.language, a.published_at, a.story_id,
       s.score, a.body_text
FROM scored s
JOIN articles a ON a.article_id = s.article_id
ORDER BY s.score DESC, a.published_at DESC NULLS LAST, a.article_id
LIMIT %(limit)s;
