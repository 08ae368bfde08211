-- Template: {name} is a staged (temp) table, composed with psycopg.sql.Identifier.
DROP TABLE IF EXISTS pg_temp.{name}
