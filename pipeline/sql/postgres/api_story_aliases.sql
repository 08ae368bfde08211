-- Retired story ids and the story each means now, for the API's snapshot
-- (GET /stories/{alias} redirects to /stories/{story_id}).
SELECT alias, story_id
FROM story_aliases
ORDER BY alias;
