-- Feed health (issue 3): mirrors of the lake's per-feed polling state and fetch attempts.
-- The lake is the source of truth (state/feeds/*.json, fetch_attempts batches); the load
-- stage copies it here so analysts can query it.  See docs/ingestion.md.

CREATE TABLE IF NOT EXISTS feeds (
    url                 TEXT PRIMARY KEY,   -- the registry URL (the feed's identity)
    name                TEXT,
    language            TEXT,
    current_url         TEXT,               -- after permanent redirects (301/308)
    health              TEXT,               -- ok | failing | parked | new
    etag                TEXT,
    last_modified       TEXT,
    last_status         INTEGER,
    last_outcome        TEXT,               -- ok | not_modified | error
    last_reason         TEXT,
    last_error          TEXT,
    consecutive_errors  INTEGER,
    total_errors        INTEGER,
    total_polls         INTEGER,
    next_poll_at        TIMESTAMPTZ,
    last_attempt_at     TIMESTAMPTZ,
    last_success_at     TIMESTAMPTZ,
    last_new_entries_at TIMESTAMPTZ,
    last_entries        INTEGER,
    ttl_minutes         INTEGER,
    parked              BOOLEAN,
    parked_at           TIMESTAMPTZ,
    mirrored_at         TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS fetch_attempts (
    batch_id           TEXT NOT NULL,       -- one lake batch per run and shard
    seq                INTEGER NOT NULL,
    run_ts             TIMESTAMPTZ,
    kind               TEXT,                -- feed | page
    feed_url           TEXT,
    url                TEXT,
    final_url          TEXT,
    attempted_at       TIMESTAMPTZ,
    outcome            TEXT,                -- ok | not_modified | error
    status             INTEGER,
    reason             TEXT,
    detail             TEXT,
    elapsed_ms         DOUBLE PRECISION,
    bytes              BIGINT,
    body_sha256        TEXT,
    entries            INTEGER,
    consecutive_errors INTEGER,
    next_poll_at       TIMESTAMPTZ,
    parked             BOOLEAN,
    PRIMARY KEY (batch_id, seq)
);
