-- Story page (pipeline/api/pages.py): every member of one story with its text, canonical
-- first, then by publication time.  $story_id.
SELECT a.article_id, a.title, a.url, a.source_domain, a.language, a.published_at,
       a.body_text, a.duplicate_of, a.dup_kind, a.dup_score, a.translator,
       a.original_outlet, a.attribution_text, a.authors
FROM articles a
WHERE a.story_id = $story_id
ORDER BY a.duplicate_of IS NOT NULL, a.published_at, a.article_id;
