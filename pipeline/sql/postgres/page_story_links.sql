-- Story page: the dedup edges between members of one story, with their evidence
-- (aligned sentence pairs and their character offsets).  %(story_id)s.
SELECT l.a, l.b, l.kind, l.score, CAST(l.evidence AS TEXT) AS evidence
FROM article_links l
JOIN articles x ON x.article_id = l.a
JOIN articles y ON y.article_id = l.b
WHERE x.story_id = %(story_id)s AND y.story_id = %(story_id)s
ORDER BY l.a, l.b, l.kind;
