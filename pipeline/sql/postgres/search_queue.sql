-- Articles whose story changed since the search index last committed them (migration 014).
SELECT article_id, story_id FROM search_queue ORDER BY article_id;
