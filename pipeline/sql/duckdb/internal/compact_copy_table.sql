-- One table of the old file into the new file's table of the same name (made by the
-- migrations; rows a migration seeds are replaced by the old file's).  {table}: a quoted
-- identifier from the catalog.
DELETE FROM main.{table};
INSERT INTO main.{table} BY NAME SELECT * FROM compact_src.main.{table};
