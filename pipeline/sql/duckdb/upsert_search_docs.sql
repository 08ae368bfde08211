-- Merge staged search documents (`staged_search_docs`: article_id, lang_group, content_hash, doc)
-- and replace their postings: tokens are the folded doc split on spaces, stemmed per group
-- (porter for English, arabic, none for the rest), English stopwords out.  Inserted in term
-- order, so each batch's row groups cover narrow term ranges and a term lookup skips most.
CREATE OR REPLACE TEMP TABLE staged_terms AS
SELECT s.article_id, s.lang_group,
       stem(t.token, CASE s.lang_group WHEN 'en' THEN 'porter' WHEN 'ar' THEN 'arabic' ELSE 'none' END) AS term
FROM staged_search_docs s, unnest(string_split(coalesce(s.doc, ''), ' ')) AS t(token)
WHERE t.token <> ''
  AND NOT EXISTS (SELECT 1 FROM search_stopwords w WHERE w.lang_group = s.lang_group AND w.word = t.token);
INSERT INTO search_docs BY NAME (
    SELECT s.article_id, s.lang_group, s.content_hash, s.doc, coalesce(n.doc_len, 0)::INTEGER AS doc_len
    FROM staged_search_docs s
    LEFT JOIN (SELECT article_id, count(*) AS doc_len FROM staged_terms GROUP BY article_id) n USING (article_id)
)
ON CONFLICT (article_id) DO UPDATE SET
    lang_group = excluded.lang_group, content_hash = excluded.content_hash, doc = excluded.doc,
    doc_len = excluded.doc_len;
DELETE FROM search_postings WHERE article_id IN (SELECT article_id FROM staged_search_docs);
INSERT INTO search_postings (lang_group, term, article_id, tf, doc_len)
SELECT lang_group, term, article_id, count(*)::INTEGER AS tf,
       (sum(count(*)) OVER (PARTITION BY article_id))::INTEGER AS doc_len
FROM staged_terms
GROUP BY lang_group, term, article_id
ORDER BY lang_group, term, article_id;
DROP TABLE staged_terms;
