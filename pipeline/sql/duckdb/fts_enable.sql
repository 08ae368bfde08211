-- On-demand full text for analysts (`newsflow warehouse fts`): the fts extension's BM25 index
-- over title and body (porter stemmer, English stopwords), built whole from the current rows
-- into schema fts_main_articles.  DuckDB cannot keep it current incrementally, so it is a
-- snapshot: run the command again after loads.  `newsflow search` never needs it.
PRAGMA create_fts_index('articles', 'article_id', 'title', 'body_text', stemmer = 'porter', stopwords = 'english', overwrite = 1);
