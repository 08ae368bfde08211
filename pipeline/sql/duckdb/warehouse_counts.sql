-- Row counts of the main tables, for `newsflow warehouse status`.
SELECT 'articles' AS table_name, count(*) AS n FROM articles
UNION ALL SELECT 'stories', count(*) FROM stories
UNION ALL SELECT 'story_aliases', count(*) FROM story_aliases
UNION ALL SELECT 'article_links', count(*) FROM article_links
UNION ALL SELECT 'related_articles', count(*) FROM related_articles
UNION ALL SELECT 'rejects', count(*) FROM rejects
UNION ALL SELECT 'search_queue', count(*) FROM search_queue
UNION ALL SELECT 'load_ledger', count(*) FROM load_ledger;
