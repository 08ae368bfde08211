-- Merge staged search documents (`staged_search_docs`: article_id, lang_group, content_hash, doc)
-- and analyze them: English stemming, Arabic stemming/stopwords, `simple` for the rest.
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
