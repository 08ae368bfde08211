-- Current story of each article a batch ($batch_id) merged, for the search index after the
-- dedup generation (the analysis of the batch's text was started during the load).
SELECT article_id, story_id FROM articles WHERE batch_id = $batch_id;
