-- Apply one dedup generation (staged tables `staged_assignments`, `staged_edges`).
-- A generation describes the whole known corpus (every article, every accepted edge), so
-- links and stories are replaced; article rows are touched only where something changed,
-- which keeps re-applying the same generation a no-op and a new one proportional to its
-- changes (a late original re-pointing its translations rewrites only those rows).
-- Articles whose story changes are queued for the search index in this same transaction
-- (migration 014): the index re-points them after it commits, even across a crash.
INSERT INTO search_queue (article_id, story_id)
SELECT a.article_id, s.story_id FROM articles a JOIN staged_assignments s ON s.article_id = a.article_id
WHERE a.story_id IS DISTINCT FROM s.story_id
ON CONFLICT (article_id) DO UPDATE SET story_id = excluded.story_id;

UPDATE articles SET story_id = s.story_id, duplicate_of = s.duplicate_of,
       dup_kind = s.dup_kind, dup_score = s.dup_score
FROM staged_assignments s
WHERE articles.article_id = s.article_id
  AND (articles.story_id IS DISTINCT FROM s.story_id
       OR articles.duplicate_of IS DISTINCT FROM s.duplicate_of
       OR articles.dup_kind IS DISTINCT FROM s.dup_kind
       OR articles.dup_score IS DISTINCT FROM s.dup_score);

-- Links and stories cover the articles the warehouse holds.  A batch that failed to load
-- (retried next run) or was quarantined is absent: its edges wait, and a story whose
-- canonical is absent keeps the canonical the generation names (never NULL), so
-- stories stay valid; the loader ledgers the generation only once nothing is missing.
DELETE FROM article_links;
INSERT INTO article_links (a, b, kind, score, evidence)
SELECT e.a, e.b, e.kind, e.score, e.evidence::JSON FROM staged_edges e
WHERE EXISTS (SELECT 1 FROM articles x WHERE x.article_id = e.a)
  AND EXISTS (SELECT 1 FROM articles y WHERE y.article_id = e.b);

DELETE FROM stories;
INSERT INTO stories (story_id, canonical_id, languages, n_copies, first_seen, last_seen)
SELECT a.story_id,
       coalesce(max(a.article_id) FILTER (WHERE a.duplicate_of IS NULL), max(c.canonical_id), min(a.article_id)),
       list_sort(list(DISTINCT a.language)),
       count(*),
       min(a.published_at),
       max(a.published_at)
FROM articles a
LEFT JOIN (SELECT story_id, max(article_id) AS canonical_id FROM staged_assignments
           WHERE duplicate_of IS NULL GROUP BY story_id) c ON c.story_id = a.story_id
WHERE a.story_id IS NOT NULL
GROUP BY a.story_id;
