SELECT (SELECT count(*) FROM compact_src.main.{table}) AS old_rows, (SELECT count(*) FROM main.{table}) AS new_rows;
