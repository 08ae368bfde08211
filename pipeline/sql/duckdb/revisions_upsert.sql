-- Merge the revision rows of one loaded batch (staged as `staged_revisions`).
INSERT INTO article_revisions BY NAME (SELECT * FROM staged_revisions)
ON CONFLICT (article_id, revision) DO NOTHING;
