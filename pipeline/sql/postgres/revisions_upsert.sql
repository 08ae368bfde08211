-- Merge the revision rows of one loaded batch (staged as `staged_revisions`).
INSERT INTO article_revisions (article_id, revision, batch_id, observed_at, kind, content_fingerprint,
    previous_fingerprint, changed_fields, sentences_added, sentences_removed, similarity, diff_excerpt)
SELECT article_id, revision, batch_id, observed_at, kind, content_fingerprint, previous_fingerprint,
    changed_fields, sentences_added, sentences_removed, similarity, diff_excerpt FROM staged_revisions
ON CONFLICT (article_id, revision) DO NOTHING;
