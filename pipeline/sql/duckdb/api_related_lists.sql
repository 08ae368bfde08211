-- Every stored related list, in list order, for the API's snapshot.
SELECT article_id, related_id, rank, score
FROM related_articles
ORDER BY article_id, rank;
