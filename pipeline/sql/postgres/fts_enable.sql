-- Optional native full text for analysts (issue 15; NEWSFLOW_SEARCH_PG_TSVECTOR=1 or
-- `newsflow warehouse fts`): a tsvector of title and body per article, analysed with the
-- `english`, `arabic` or `simple` configuration by language, under a GIN index.  A generated
-- column: PostgreSQL keeps it current on every upsert, no load code involved.  Off by default
-- (it costs load time and disk); `newsflow search` never needs it.
ALTER TABLE articles ADD COLUMN IF NOT EXISTS search_tsv tsvector GENERATED ALWAYS AS (
    to_tsvector(CASE language WHEN 'en' THEN 'english'::regconfig
                              WHEN 'ar' THEN 'arabic'::regconfig
                              ELSE 'simple'::regconfig END,
                coalesce(title, '') || ' ' || coalesce(body_text, ''))
) STORED;
CREATE INDEX IF NOT EXISTS articles_search_tsv ON articles USING gin (search_tsv);
