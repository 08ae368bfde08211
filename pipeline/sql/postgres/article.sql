-- One article's identity and story columns.  %(article_id)s.
SELECT article_id, title, url, source_domain, language, published_at, story_id, duplicate_of, dup_kind
FROM articles WHERE article_id = %(article_id)s;
