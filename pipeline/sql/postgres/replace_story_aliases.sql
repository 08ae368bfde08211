-- Replace the story aliases with those of one dedup generation (staged `staged_aliases`:
-- alias, story_id; one row per alias, no NULLs).  A generation carries every alias ever
-- issued, so its set is the whole truth: aliases it no longer has go, re-pointed ones are
-- rewritten, new ones arrive.  Only differences are written, so re-applying the same set
-- changes nothing and a new generation costs what changed, not the whole table.
DELETE FROM story_aliases
WHERE NOT EXISTS (SELECT 1 FROM staged_aliases s
                  WHERE s.alias = story_aliases.alias AND s.story_id = story_aliases.story_id);

INSERT INTO story_aliases (alias, story_id)
SELECT s.alias, s.story_id
FROM staged_aliases s
WHERE NOT EXISTS (SELECT 1 FROM story_aliases t WHERE t.alias = s.alias);
