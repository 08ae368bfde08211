-- How much of the DuckDB file is free blocks (`newsflow warehouse status` names compact).
SELECT block_size, total_blocks, free_blocks FROM pragma_database_size() WHERE database_name = current_database();
