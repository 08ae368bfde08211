-- newsflow warehouse, PostgreSQL backend, version 1 (twin of sql/duckdb/001_init.sql).
-- Documented for analysts in sql/README.md.  Keys are stable; loads are upserts.

CREATE TABLE IF NOT EXISTS articles (
    article_id          TEXT PRIMARY KEY,      -- first 16 hex of sha256(canonical_url)
    url                 TEXT NOT NULL,
    canonical_url       TEXT NOT NULL,
    feed_url            TEXT,
    source_domain       TEXT NOT NULL,
    guid                TEXT,
    title               TEXT,
    summary             TEXT,
    body_text           TEXT,
    language            TEXT,
    language_confidence DOUBLE PRECISION,
    published_at        TIMESTAMPTZ,
    published_at_source TEXT,                  -- feed | page | fetched
    published_at_flag   TEXT,                  -- NULL, future, too_old
    fetched_at          TIMESTAMPTZ,
    authors             TEXT[],
    translator          TEXT,
    original_outlet     TEXT,
    original_domain     TEXT,
    original_url        TEXT,
    attribution_text    TEXT,
    image_url           TEXT,
    tags                TEXT[],
    content_hash        TEXT,
    batch_id            TEXT,
    story_id            TEXT,
    duplicate_of        TEXT,
    dup_kind            TEXT,                  -- exact | near | translation
    dup_score           DOUBLE PRECISION
);

CREATE TABLE IF NOT EXISTS article_links (
    a        TEXT NOT NULL,
    b        TEXT NOT NULL,
    kind     TEXT NOT NULL,                    -- exact | near | translation
    score    DOUBLE PRECISION,
    evidence JSONB,
    PRIMARY KEY (a, b, kind)
);

CREATE TABLE IF NOT EXISTS stories (
    story_id          TEXT PRIMARY KEY,
    canonical_id      TEXT NOT NULL,
    languages         TEXT[],
    n_copies          INTEGER,
    first_seen        TIMESTAMPTZ,
    last_seen         TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS related_articles (
    article_id TEXT NOT NULL,
    related_id TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    score      DOUBLE PRECISION NOT NULL,
    score_embedding DOUBLE PRECISION,
    score_text      DOUBLE PRECISION,
    score_anchors   DOUBLE PRECISION,
    score_recency   DOUBLE PRECISION,
    PRIMARY KEY (article_id, related_id)
);

CREATE TABLE IF NOT EXISTS rejects (
    stage     TEXT NOT NULL,
    url       TEXT NOT NULL,
    reason    TEXT NOT NULL,
    detail    TEXT,
    last_run  TIMESTAMPTZ,
    PRIMARY KEY (stage, url, reason)
);

CREATE TABLE IF NOT EXISTS load_ledger (
    kind      TEXT NOT NULL,                   -- articles | dedup | rejects
    batch_id  TEXT NOT NULL,
    rows      INTEGER,
    loaded_at TIMESTAMPTZ,
    PRIMARY KEY (kind, batch_id)
);

CREATE OR REPLACE VIEW v_story_copies AS
SELECT s.story_id, s.canonical_id, a.article_id, a.source_domain, a.language, a.title,
       a.published_at, a.dup_kind, a.dup_score, a.article_id = s.canonical_id AS is_canonical
FROM stories s JOIN articles a USING (story_id);

CREATE OR REPLACE VIEW v_translations AS
SELECT t.article_id AS translation_id, t.language AS translation_language, t.source_domain AS translation_outlet,
       t.title AS translation_title, t.translator, t.original_outlet AS stated_source,
       o.article_id AS original_id, o.language AS original_language, o.source_domain AS original_outlet,
       o.title AS original_title, t.dup_score
FROM articles t JOIN articles o ON o.article_id = t.duplicate_of
WHERE t.dup_kind = 'translation';
