-- The migration runner's own table (created before any migration).
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR,
    applied_at TIMESTAMPTZ DEFAULT current_timestamp
);
