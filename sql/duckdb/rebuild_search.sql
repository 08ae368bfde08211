-- Rebuild the BM25 indexes from `search_docs`: one index per analysis, since an fts index has
-- one stemmer (English: porter + English stopwords, Arabic: arabic stemmer, others: none).
CREATE OR REPLACE TABLE search_docs_en AS SELECT article_id, doc FROM search_docs WHERE lang_group = 'en';
CREATE OR REPLACE TABLE search_docs_ar AS SELECT article_id, doc FROM search_docs WHERE lang_group = 'ar';
CREATE OR REPLACE TABLE search_docs_other AS SELECT article_id, doc FROM search_docs WHERE lang_group = 'other';
PRAGMA create_fts_index('search_docs_en', 'article_id', 'doc', stemmer = 'porter', stopwords = 'english', strip_accents = 0, lower = 1, overwrite = 1);
PRAGMA create_fts_index('search_docs_ar', 'article_id', 'doc', stemmer = 'arabic', stopwords = 'none', strip_accents = 0, lower = 1, overwrite = 1);
PRAGMA create_fts_index('search_docs_other', 'article_id', 'doc', stemmer = 'none', stopwords = 'none', strip_accents = 0, lower = 1, overwrite = 1);
