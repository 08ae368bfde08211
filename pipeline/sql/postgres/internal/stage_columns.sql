-- Template: a staged temp table whose {columns} come from an Arrow schema (fixed type map).
CREATE TEMP TABLE {name} ({columns})
