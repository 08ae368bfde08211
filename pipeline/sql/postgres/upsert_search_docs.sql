-- Merge staged search documents (`staged_search_docs`: article_id, lang_group, content_hash, doc),
-- analyze them (English stemming, Arabic stemming/stopwords, `simple` for the rest) and
-- replace their postings.
INSERT INTO search_docs (article_id, lang_group, content_hash, doc, tsv, doc_len)
SELECT s.article_id, s.lang_group, s.content_hash, s.doc, v.tsv,
       (SELECT coalesce(sum(coalesce(cardinality(u.positions), 1)), 0) FROM unnest(v.tsv) u)
FROM staged_search_docs s
CROSS JOIN LATERAL (
    SELECT to_tsvector(CASE s.lang_group WHEN 'en' THEN 'english' WHEN 'ar' THEN 'arabic' ELSE 'simple' END::regconfig,
                       coalesce(s.doc, '')) AS tsv
) v
ORDER BY s.article_id
ON CONFLICT (article_id) DO UPDATE SET
    lang_group = excluded.lang_group, content_hash = excluded.content_hash, doc = excluded.doc,
    tsv = excluded.tsv, doc_len = excluded.doc_len;
DELETE FROM search_postings p USING staged_search_docs s WHERE p.article_id = s.article_id;
INSERT INTO search_postings (lang_group, lexeme, article_id, tf, doc_len, impact)
SELECT d.lang_group, u.lexeme, d.article_id, x.tf, d.doc_len,
       x.tf * 2.2 / (x.tf + 1.2 * (0.25 + 0.75 * d.doc_len
                                   / greatest(coalesce(st.avg_len, d.doc_len::float8), 1)))
FROM staged_search_docs s
JOIN search_docs d ON d.article_id = s.article_id
LEFT JOIN search_stats st ON st.lang_group = d.lang_group
CROSS JOIN LATERAL unnest(d.tsv) u
CROSS JOIN LATERAL (SELECT coalesce(cardinality(u.positions), 1) AS tf) x
ORDER BY 1, 2, 3;
