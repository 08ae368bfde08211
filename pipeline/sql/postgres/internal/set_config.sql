-- Session setting by name ($1) and value ($2); search_path, read-only mode.
SELECT set_config(%s, %s, false)
