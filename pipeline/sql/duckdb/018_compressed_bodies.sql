-- Warehouse migration 018 (issue 15): article text compressed with zstd on DuckDB.
-- Why: warehouse plus search index must stay under 1.5 times the raw text.  DuckDB picks a
-- compression per column segment itself: FSST for short strings (1.2 KB bodies: 28 MB per
-- 50,000) and, in a file of storage version v1.0, nothing at all for long ones (5.5 KB
-- bodies were stored `Uncompressed`: 279 MB).  zstd stores the same bodies in 19 and 83 MB.
-- DuckDB has no `ALTER COLUMN ... SET COMPRESSION`, so `articles` is rebuilt once, with
-- its rows, keys and column order as before.  The clause needs a file of storage version
-- v1.2.0 or later: newsflow creates its files so (pipeline.warehouse.backend_duckdb); an
-- older file keeps DuckDB's own choice until `newsflow warehouse compact` rewrites it.
CREATE TABLE articles_018 (
    article_id          VARCHAR PRIMARY KEY,   -- first 16 hex of sha256(canonical_url)
    url                 VARCHAR NOT NULL,
    canonical_url       VARCHAR NOT NULL,
    feed_url            VARCHAR,
    source_domain       VARCHAR NOT NULL,
    guid                VARCHAR,
    title               VARCHAR,
    summary             VARCHAR USING COMPRESSION zstd,
    body_text           VARCHAR USING COMPRESSION zstd,
    language            VARCHAR,
    language_confidence DOUBLE,
    published_at        TIMESTAMPTZ,
    published_at_source VARCHAR,
    published_at_flag   VARCHAR,
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
    dup_kind            VARCHAR,
    dup_score           DOUBLE,
    published_at_inferred BOOLEAN,             -- 013
    section             VARCHAR,
    site_name           VARCHAR,
    anchors             JSON,
    revision            INTEGER,               -- 016
    content_fingerprint VARCHAR
);
INSERT INTO articles_018 BY NAME SELECT * FROM articles;
DROP TABLE articles;
ALTER TABLE articles_018 RENAME TO articles;
