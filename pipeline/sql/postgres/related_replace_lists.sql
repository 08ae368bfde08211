-- Replace the lists of the staged owners (`staged_related_owners`: article_id) with the
-- staged rows (`staged_related`, typed like related_articles); other lists stay.
DELETE FROM related_articles WHERE article_id IN (SELECT article_id FROM staged_related_owners);
INSERT INTO related_articles (article_id, related_id, rank, score, score_embedding, score_text, score_anchors, score_recency)
SELECT article_id, related_id, rank, score, score_embedding, score_text, score_anchors, score_recency
FROM staged_related ORDER BY article_id, rank;
