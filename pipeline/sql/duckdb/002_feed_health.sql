-- Feed health (issue 3): mirrors of the lake's per-feed polling state and fetch attempts.
-- The lake is the source of truth (state/feeds/*.json, fetch_attempts batches); the load
-- stage copies it here so analysts can query it.  See docs/ingestion.md.

CREATE TABLE IF NOT EXISTS feeds (
    url                 VARCHAR PRIMARY KEY,   -- the registry URL (the feed's identity)
    name                VARCHAR,
    language            VARCHAR,
    current_url         VARCHAR,               -- after permanent redirects (301/308)
    health              VARCHAR,               -- ok | failing | parked | new
    etag                VARCHAR,
    last_modified       VARCHAR,
    last_status         INTEGER,
    last_outcome        VARCHAR,               -- ok | not_modified | error
    last_reason         VARCHAR,
    last_error          VARCHAR,
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
    batch_id           VARCHAR NOT NULL,       -- one lake batch per run and shard
    seq                INTEGER NOT NULL,
    run_ts             TIMESTAMPTZ,
    kind               VARCHAR,                -- feed | page
    feed_url           VARCHAR,
    url                VARCHAR,
    final_url          VARCHAR,
    attempted_at       TIMESTAMPTZ,
    outcome            VARCHAR,                -- ok | not_modified | error
    status             INTEGER,
    reason             VARCHAR,
    detail             VARCHAR,
    elapsed_ms         DOUBLE,
    bytes              BIGINT,
    body_sha256        VARCHAR,
    entries            INTEGER,
    consecutive_errors INTEGER,
    next_poll_at       TIMESTAMPTZ,
    parked             BOOLEAN,
    PRIMARY KEY (batch_id, seq)
);
