-- Articles whose search document is missing or stale: a warehouse migrated from version 1,
-- or documents folded by an older search_text() ($version: '|' + its version).
SELECT a.article_id, a.language, a.content_hash, a.title, a.body_text
FROM articles a LEFT JOIN search_docs s USING (article_id)
WHERE s.article_id IS NULL OR s.content_hash IS DISTINCT FROM a.content_hash || $version
ORDER BY a.article_id;
