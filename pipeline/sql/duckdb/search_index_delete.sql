-- Remove one article from the search index (postings and documents); stats follow.
DELETE FROM search_postings WHERE article_id = $article_id;
DELETE FROM search_docs WHERE article_id = $article_id;
