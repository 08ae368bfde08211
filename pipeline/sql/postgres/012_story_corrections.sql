-- Warehouse migration 012 (issue 17): editors' story corrections, for the story pages and
-- the audit.  The lake holds them (corrections/, one immutable object each) and dedup obeys
-- them; every load mirrors the ones not here yet.  Rows are never updated: a later
-- correction of the same articles is a new row that wins by its time.
CREATE TABLE IF NOT EXISTS story_corrections (
    correction_id TEXT PRIMARY KEY,        -- c_ + content hash
    action        TEXT NOT NULL,           -- split | join
    article_id    TEXT NOT NULL,           -- the article the editor moved
    others        TEXT[],                  -- split: its story's other members then; join: the story's members
    editor        TEXT NOT NULL,           -- who
    made_at            TIMESTAMPTZ NOT NULL,    -- when
    note          TEXT
);
