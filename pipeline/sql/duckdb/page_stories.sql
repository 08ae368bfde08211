-- Stories index (pipeline/api/pages.py): stories with several copies, newest first, with
-- their canonical's title and outlet.  Every filter is optional (NULL: any).
-- $lang, $outlet, $kind filter on any member; $since/$until on the story's last/first copy.
SELECT s.story_id, s.n_copies, s.languages, s.first_seen, s.last_seen,
       c.article_id AS canonical_id, c.title, c.source_domain, c.language,
       (SELECT list(DISTINCT m.dup_kind ORDER BY m.dup_kind) FROM articles m
         WHERE m.story_id = s.story_id AND m.dup_kind IS NOT NULL) AS kinds,
       count(*) OVER () AS total
FROM stories s
JOIN articles c ON c.article_id = s.canonical_id
WHERE s.n_copies > 1
  AND ($since IS NULL OR s.last_seen >= $since)
  AND ($until IS NULL OR s.first_seen < $until)
  AND ($lang IS NULL AND $outlet IS NULL AND $kind IS NULL OR EXISTS (
        SELECT 1 FROM articles m
        WHERE m.story_id = s.story_id
          AND ($lang IS NULL OR m.language = $lang)
          AND ($outlet IS NULL OR m.source_domain = $outlet)
          AND ($kind IS NULL OR m.dup_kind = $kind)))
ORDER BY s.last_seen DESC NULLS LAST, s.story_id
LIMIT $limit OFFSET $offset;
