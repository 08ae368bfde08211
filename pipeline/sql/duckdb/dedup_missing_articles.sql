-- Assignments of the staged dedup generation whose article the warehouse does not hold
-- (its batch failed to load or is quarantined): the generation is ledgered only at 0.
SELECT count(*) AS n FROM staged_assignments s
WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.article_id = s.article_id);
