-- Template: {schema} is composed with psycopg.sql.Identifier (never a raw string).
CREATE SCHEMA IF NOT EXISTS {schema}
