-- A table no migration makes (an analyst's own): its rows and column types, as they are.
CREATE TABLE main.{table} AS SELECT * FROM compact_src.main.{table};
