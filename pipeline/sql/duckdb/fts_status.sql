-- Whether the on-demand fts index exists (1) or not (0).
SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'fts_main_articles';
