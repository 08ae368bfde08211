-- Merge staged article rows (table `staged_articles`) into `articles`.  Dedup columns
-- (story_id ...) are set on insert, from the generation the load applies next
-- (loads.with_stories); an existing row's are left to apply_dedup.sql.
-- `revision`: the current version wins; earlier versions are described in `article_revisions`.  Rows whose content did not change are not touched.
-- Two statements: rows already stored go through ON CONFLICT (the update below), new rows
-- through a plain insert.  DuckDB's ON CONFLICT path is slower for rows that do not
-- conflict: 200,000 new articles in 10,000-row batches took 5.6 s through it, 4.5 s so
-- (a throw-away script over the bench's articles, 2026-12-01); a load is mostly new rows.
INSERT INTO articles BY NAME (SELECT * FROM staged_articles WHERE article_id IN (SELECT article_id FROM articles))
ON CONFLICT (article_id) DO UPDATE SET
    url = excluded.url, canonical_url = excluded.canonical_url, feed_url = excluded.feed_url,
    source_domain = excluded.source_domain, guid = excluded.guid, title = excluded.title,
    summary = excluded.summary, body_text = excluded.body_text, language = excluded.language,
    language_confidence = excluded.language_confidence, published_at = excluded.published_at,
    published_at_source = excluded.published_at_source, published_at_flag = excluded.published_at_flag,
    fetched_at = excluded.fetched_at, authors = excluded.authors, translator = excluded.translator,
    original_outlet = excluded.original_outlet, original_domain = excluded.original_domain,
    original_url = excluded.original_url, attribution_text = excluded.attribution_text,
    image_url = excluded.image_url, tags = excluded.tags, content_hash = excluded.content_hash,
    batch_id = excluded.batch_id, published_at_inferred = excluded.published_at_inferred,
    section = excluded.section, site_name = excluded.site_name, anchors = excluded.anchors,
    revision = excluded.revision, content_fingerprint = excluded.content_fingerprint
-- an older revision (a batch loaded late) never replaces a newer one (issue 19)
WHERE coalesce(excluded.revision, 0) >= coalesce(articles.revision, 0);
INSERT INTO articles BY NAME (SELECT * FROM staged_articles WHERE article_id NOT IN (SELECT article_id FROM articles));
