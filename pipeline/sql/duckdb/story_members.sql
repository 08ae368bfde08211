-- Every member of the given stories ($story_ids: a list), canonical first, for search's
-- story expansion. Ids only: what a hit shows comes from the search index (reading bodies
-- here decompressed most of the body column: about 1 s at 1M articles on DuckDB).
SELECT a.article_id, a.story_id
FROM articles a
WHERE a.story_id = ANY($story_ids)
ORDER BY a.story_id, a.duplicate_of IS NOT NULL, a.published_at, a.article_id;
