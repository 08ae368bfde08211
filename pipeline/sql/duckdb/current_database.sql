-- The current database (catalog) name.
SELECT current_database();
