-- The storage version of the connection's file (v1.0.0+, v1.2.0+ ...; NULL in memory).
SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database();
