-- Apply one dedup generation (staged tables `staged_assignments`, `staged_edges`);
-- twin of sql/duckdb/apply_dedup.sql.  A generation describes the whole known corpus,
-- so links and stories are replaced; article rows are touched only where something
-- changed (re-applying a generation is a no-op; a late original re-points only its copies).
UPDATE articles SET story_id = s.story_id, duplicate_of = s.duplicate_of,
       dup_kind = s.dup_kind, dup_score = s.dup_score
FROM staged_assignments s
WHERE articles.article_id = s.article_id
  AND (articles.story_id IS DISTINCT FROM s.story_id
       OR articles.duplicate_of IS DISTINCT FROM s.duplicate_of
       OR articles.dup_kind IS DISTINCT FROM s.dup_kind
       OR articles.dup_score IS DISTINCT FROM s.dup_score);

DELETE FROM article_links;
INSERT INTO article_links (a, b, kind, score, evidence)
SELECT a, b, kind, score, evidence::jsonb FROM staged_edges;

DELETE FROM stories;
INSERT INTO stories (story_id, canonical_id, languages, n_copies, first_seen, last_seen)
SELECT story_id,
       max(article_id) FILTER (WHERE duplicate_of IS NULL),
       array_agg(DISTINCT language ORDER BY language) FILTER (WHERE language IS NOT NULL),
       count(*),
       min(published_at),
       max(published_at)
FROM articles
WHERE story_id IS NOT NULL
GROUP BY story_id;
