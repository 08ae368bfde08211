-- Rebuild the search documents (from the staged Arrow table `staged_search_docs`:
-- article_id, lang_group, doc) and one BM25 index per analysis.  Text is pre-normalized in
-- Python (pipeline.extract.textnorm) so Arabic letter variants and digit systems match.
CREATE OR REPLACE TABLE search_docs_en AS SELECT article_id, doc FROM staged_search_docs WHERE lang_group = 'en';
CREATE OR REPLACE TABLE search_docs_ar AS SELECT article_id, doc FROM staged_search_docs WHERE lang_group = 'ar';
CREATE OR REPLACE TABLE search_docs_other AS SELECT article_id, doc FROM staged_search_docs WHERE lang_group = 'other';
PRAGMA create_fts_index('search_docs_en', 'article_id', 'doc', stemmer = 'porter', stopwords = 'english', strip_accents = 0, lower = 1, overwrite = 1);
PRAGMA create_fts_index('search_docs_ar', 'article_id', 'doc', stemmer = 'arabic', stopwords = 'none', strip_accents = 0, lower = 1, overwrite = 1);
PRAGMA create_fts_index('search_docs_other', 'article_id', 'doc', stemmer = 'none', stopwords = 'none', strip_accents = 0, lower = 1, overwrite = 1);
