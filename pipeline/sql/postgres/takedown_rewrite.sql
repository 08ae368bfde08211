-- PostgreSQL needs no file rewrite (takedown_vacuum.sql rewrites the tables); kept as the
-- twin of the DuckDB file.
SELECT 1;
