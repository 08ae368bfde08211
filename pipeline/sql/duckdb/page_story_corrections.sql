-- Story page: the corrections that touched a member of the story, newest first.  $story_id.
SELECT c.correction_id, c.action, c.article_id, c.others, c.editor, c.made_at, c.note
FROM story_corrections c
WHERE c.article_id IN (SELECT article_id FROM articles WHERE story_id = $story_id)
   OR EXISTS (SELECT 1 FROM articles a WHERE a.story_id = $story_id AND list_contains(c.others, a.article_id))
ORDER BY c.made_at DESC, c.correction_id;
