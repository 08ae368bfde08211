-- Every copy of the story an article belongs to, canonical first.  %s article_id.
SELECT c.source_domain, c.language, c.dup_kind, c.dup_score, c.title
FROM articles a
JOIN articles c ON c.story_id = a.story_id
WHERE a.article_id = %s
ORDER BY c.duplicate_of IS NOT NULL, c.published_at NULLS LAST, c.article_id;
