-- Warehouse migration 013 (issue 14; numbered after main's 012): every article field of the lake reaches the warehouse.
-- Why: `published_at_inferred`, `section`, `site_name` and `anchors` were written to the
-- lake but never loaded, so analysts could not filter on them.  `anchors` (the numbers,
-- dates and names dedup compares, with their positions) is JSON like `article_links.evidence`:
-- a list of {"kind", "value", "position"}; read it with `anchors -> 0 ->> 'value'`.
-- Rows loaded before this migration read NULL until their batch is loaded again.
ALTER TABLE articles ADD COLUMN IF NOT EXISTS published_at_inferred BOOLEAN;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS section TEXT;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS site_name TEXT;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS anchors JSONB;
