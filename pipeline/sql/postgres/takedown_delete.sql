-- Remove one taken-down article's rows (the search index follows the takedowns table: pipeline.search.sync).
DELETE FROM articles WHERE article_id = %(article_id)s;
DELETE FROM article_revisions WHERE article_id = %(article_id)s;
DELETE FROM article_links WHERE a = %(article_id)s OR b = %(article_id)s;
DELETE FROM related_articles WHERE article_id = %(article_id)s OR related_id = %(article_id)s;
UPDATE articles SET duplicate_of = NULL WHERE duplicate_of = %(article_id)s;
