-- Columns of one warehouse table, in order.
SELECT column_name FROM information_schema.columns
WHERE table_name = %(table)s AND table_schema = current_schema()
ORDER BY ordinal_position;
