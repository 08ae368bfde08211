-- Related lists (issue 7): which refresh generation the warehouse holds, and an index for
-- the per-article lookups the API and the CLI make.
CREATE TABLE IF NOT EXISTS related_state (
    singleton        INTEGER PRIMARY KEY,          -- always 1: one row
    generation       TEXT NOT NULL,                -- related/<generation>/ in the lake
    dedup_generation TEXT,
    canonicals       INTEGER,
    rows             INTEGER,
    lists_changed    INTEGER,
    min_score        DOUBLE PRECISION,             -- reader-language preference floor
    refreshed_at     TIMESTAMPTZ                   -- the caller's run_ts (NULL when not given)
);
CREATE INDEX IF NOT EXISTS related_articles_by_article ON related_articles (article_id, rank);
