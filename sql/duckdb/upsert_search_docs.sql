-- Merge staged search documents (`staged_search_docs`: article_id, lang_group, content_hash, doc).
INSERT INTO search_docs BY NAME (SELECT article_id, lang_group, content_hash, doc FROM staged_search_docs)
ON CONFLICT (article_id) DO UPDATE SET
    lang_group = excluded.lang_group, content_hash = excluded.content_hash, doc = excluded.doc;
