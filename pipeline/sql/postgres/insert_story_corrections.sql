-- Mirror the lake's corrections (staged `staged_corrections`) that the warehouse lacks.
INSERT INTO story_corrections (correction_id, action, article_id, others, editor, made_at, note)
SELECT s.correction_id, s.action, s.article_id, s.others, s.editor, s.made_at, s.note
FROM staged_corrections s
WHERE NOT EXISTS (SELECT 1 FROM story_corrections t WHERE t.correction_id = s.correction_id);
