-- Replace every related list with the staged rows (`staged_related`, typed like
-- `related_articles`), in one transaction.
DELETE FROM related_articles;
INSERT INTO related_articles (article_id, related_id, rank, score, score_embedding, score_text, score_anchors, score_recency)
SELECT article_id, related_id, rank, score, score_embedding, score_text, score_anchors, score_recency
FROM staged_related ORDER BY article_id, related_id;
