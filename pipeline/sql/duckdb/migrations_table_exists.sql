SELECT count(*) > 0 FROM information_schema.tables
WHERE table_name = 'schema_migrations' AND table_schema = current_schema();
