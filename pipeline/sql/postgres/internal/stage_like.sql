-- Template: a staged temp table with the column types of warehouse table {like}.
CREATE TEMP TABLE {name} (LIKE {like})
