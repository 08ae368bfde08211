-- Drop the rows of one fetch-attempt batch before (re)loading it: a retried shard rewrites its batch.
DELETE FROM fetch_attempts WHERE batch_id = $batch_id;
