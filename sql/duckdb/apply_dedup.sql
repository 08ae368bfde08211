-- Apply one dedup generation (staged tables `staged_assignments`, `staged_edges`).
-- A generation describes the whole known corpus (every article, every accepted edge), so
-- links and stories are replaced; article rows are touched only where something changed,
-- which keeps re-applying the same generation a no-op and a new one proportional to its
-- changes (a late original re-pointing its translations rewrites only those rows).
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
SELECT a, b, kind, score, evidence::JSON FROM staged_edges;

DELETE FROM stories;
INSERT INTO stories (story_id, canonical_id, languages, n_copies, first_seen, last_seen)
SELECT story_id,
       max(article_id) FILTER (WHERE duplicate_of IS NULL),
       list_sort(list(DISTINCT language)),
       count(*),
       min(published_at),
       max(published_at)
FROM articles
WHERE story_id IS NOT NULL
GROUP BY story_id;
