-- Drop every related list (before a full rewrite).
DELETE FROM related_articles;
