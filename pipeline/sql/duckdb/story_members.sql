-- Every member of the given stories ($story_ids: a list), for search's story expansion.
SELECT a.article_id, a.title, a.url, a.source_domain, a.language, a.published_at, a.story_id,
       a.body_text, a.duplicate_of, a.dup_kind
FROM articles a
WHERE a.story_id = ANY($story_ids)
ORDER BY a.story_id, a.duplicate_of IS NOT NULL, a.published_at, a.article_id;
