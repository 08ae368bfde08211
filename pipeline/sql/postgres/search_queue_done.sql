-- Clear the queue rows the search index committed (staged_queue_done: article_id, story_id);
-- a row changed again meanwhile (another story) stays for the next sync.
DELETE FROM search_queue q USING staged_queue_done d
WHERE d.article_id = q.article_id AND d.story_id IS NOT DISTINCT FROM q.story_id;
