-- Story page: the dedup edges between members of one story, with their evidence
-- (aligned sentence pairs and their character offsets).  $story_id.
SELECT l.a, l.b, l.kind, l.score, CAST(l.evidence AS VARCHAR) AS evidence
FROM article_links l
JOIN articles x ON x.article_id = l.a
JOIN articles y ON y.article_id = l.b
WHERE x.story_id = $story_id AND y.story_id = $story_id
ORDER BY l.a, l.b, l.kind;
