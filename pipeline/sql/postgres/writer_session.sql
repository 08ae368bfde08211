-- Settings of a writing session, run once at connect (before any temp table: PostgreSQL
-- fixes temp_buffers at the session's first temp-table use).  Loads stage each batch in a
-- temp table (COPY, then one upsert); the default 8 MB of temp buffers made a 10,000-article
-- stage (about 12 MB) spill to disk.
SET temp_buffers = '64MB';
