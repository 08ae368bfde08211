-- newsflow warehouse, DuckDB backend, version 1.
-- Documented for analysts in sql/README.md.  Keys are stable; loads are upserts.

CREATE TABLE IF NOT EXISTS articles (
    article_id          VARCHAR PRIMARY KEY,   -- first 16 hex of sha256(canonical_url)
    url                 VARCHAR NOT NULL,
    canonical_url       VARCHAR NOT NULL,
    feed_url            VARCHAR,
    source_domain       VARCHAR NOT NULL,
    guid                VARCHAR,
    title               VARCHAR,
    summary             VARCHAR,
    body_text           VARCHAR,
    language            VARCHAR,
    language_confidence DOUBLE,
    published_at        TIMESTAMPTZ,
    published_at_source VARCHAR,               -- feed | page | fetched
    published_at_flag   VARCHAR,               -- NULL, future, too_old
    fetched_at          TIMESTAMPTZ,
    authors             VARCHAR[],
    translator          VARCHAR,
    original_outlet     VARCHAR,
    original_domain     VARCHAR,
    original_url        VARCHAR,
    attribution_text    VARCHAR,
    image_url           VARCHAR,
    tags                VARCHAR[],
    content_hash        VARCHAR,
    batch_id            VARCHAR,
    story_id            VARCHAR,
    duplicate_of        VARCHAR,
    dup_kind            VARCHAR,               -- exact | near | translation
    dup_score           DOUBLE
);

CREATE TABLE IF NOT EXISTS article_links (
    a        VARCHAR NOT NULL,
    b        VARCHAR NOT NULL,
    kind     VARCHAR NOT NULL,                 -- exact | near | translation
    score    DOUBLE,
    evidence JSON,
    PRIMARY KEY (a, b, kind)
);

CREATE TABLE IF NOT EXISTS stories (
    story_id          VARCHAR PRIMARY KEY,
    canonical_id      VARCHAR NOT NULL,
    languages         VARCHAR[],
    n_copies          INTEGER,
    first_seen        TIMESTAMPTZ,
    last_seen         TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS related_articles (
    article_id VARCHAR NOT NULL,
    related_id VARCHAR NOT NULL,
    rank       INTEGER NOT NULL,
    score      DOUBLE NOT NULL,
    score_embedding DOUBLE,
    score_text      DOUBLE,
    score_anchors   DOUBLE,
    score_recency   DOUBLE,
    PRIMARY KEY (article_id, related_id)
);

CREATE TABLE IF NOT EXISTS rejects (
    stage     VARCHAR NOT NULL,
    url       VARCHAR NOT NULL,
    reason    VARCHAR NOT NULL,
    detail    VARCHAR,
    last_run  TIMESTAMPTZ,
    PRIMARY KEY (stage, url, reason)
);

CREATE TABLE IF NOT EXISTS load_ledger (
    kind      VARCHAR NOT NULL,                -- articles | dedup
    batch_id  VARCHAR NOT NULL,
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
