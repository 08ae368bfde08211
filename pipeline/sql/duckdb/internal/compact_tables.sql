-- The tables of one attached database's main schema (compact: the old file's, the new one's).
SELECT table_name FROM duckdb_tables()
WHERE database_name = $database AND schema_name = 'main'
ORDER BY table_name;
