-- Warehouse migration 016 (issue 19): article revisions and takedowns.
-- `articles` keeps the CURRENT version of each article; its earlier versions are in the
-- lake (one row per revision, never overwritten) and described here: what changed and when
-- (`observed_at` is the fetch time recorded in the data, never the load clock).
ALTER TABLE articles ADD COLUMN IF NOT EXISTS revision INTEGER;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS content_fingerprint TEXT;
CREATE TABLE IF NOT EXISTS article_revisions (
    article_id          TEXT NOT NULL,
    revision            INTEGER NOT NULL,      -- 1: first version stored, then 2, 3 ...
    batch_id            TEXT,                  -- the lake batch holding this version
    observed_at         TIMESTAMPTZ,           -- when newsflow fetched this version
    kind                TEXT,                  -- first | update | correction | retraction
    content_fingerprint TEXT,                  -- normalised fingerprint (pipeline.extract.revisions)
    previous_fingerprint TEXT,
    changed_fields      TEXT,                  -- comma-separated: title, summary, body_text, ...
    sentences_added     INTEGER,
    sentences_removed   INTEGER,
    similarity          DOUBLE PRECISION,      -- 0..1 body similarity to the previous version
    diff_excerpt        TEXT,                  -- a short unified diff of the changed sentences
    PRIMARY KEY (article_id, revision)
);
-- One row per takedown (the audit; the lake keeps the tombstone that ingestion obeys).
CREATE TABLE IF NOT EXISTS takedowns (
    takedown_id    TEXT PRIMARY KEY,
    article_id     TEXT NOT NULL,
    url            TEXT,
    canonical_url  TEXT,
    content_hashes TEXT,                        -- comma-separated
    reason         TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    requested_at   TIMESTAMPTZ NOT NULL,
    summary        JSONB                          -- what each store removed
);
