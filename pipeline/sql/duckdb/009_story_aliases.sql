-- Warehouse migration 009 (issue 12): story aliases, so an old story id keeps resolving.
-- Why: story ids appear in links editors share and in search results.  When two stories
-- merge, dedup keeps the survivor's id and retires the other; when a story splits, its id
-- may be retired too.  Each dedup generation carries every alias ever issued, already
-- re-pointed to current story ids (never a chain), and the warehouse load replaces this
-- table with that set in the same transaction as the generation's stories
-- (replace_story_aliases.sql), so a retired id never stops resolving between two loads.
CREATE TABLE IF NOT EXISTS story_aliases (
    alias    VARCHAR PRIMARY KEY,   -- a story id that no longer exists
    story_id VARCHAR NOT NULL       -- the story that holds its articles now
);

-- Any story id found in a link (current or retired) beside the story it means now.  A
-- current story always answers for itself, even if an older generation once retired its id.
CREATE OR REPLACE VIEW v_story_resolved AS
SELECT s.story_id AS id, s.story_id, FALSE AS is_alias
FROM stories s
UNION ALL
SELECT a.alias, a.story_id, TRUE
FROM story_aliases a
WHERE NOT EXISTS (SELECT 1 FROM stories s WHERE s.story_id = a.alias);
