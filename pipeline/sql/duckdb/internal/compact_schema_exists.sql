SELECT count(*) > 0 FROM duckdb_schemas() WHERE database_name = $database AND schema_name = $schema;
