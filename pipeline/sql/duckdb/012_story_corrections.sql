-- Warehouse migration 012 (issue 17): editors' story corrections, for the story pages and
-- the audit.  The lake holds them (corrections/, one immutable object each) and dedup obeys
-- them; every load mirrors the ones not here yet.  Rows are never updated: a later
-- correction of the same articles is a new row that wins by its time.
CREATE TABLE IF NOT EXISTS story_corrections (
    correction_id VARCHAR PRIMARY KEY,     -- c_ + content hash
    action        VARCHAR NOT NULL,        -- split | join
    article_id    VARCHAR NOT NULL,        -- the article the editor moved
    others        VARCHAR[],               -- split: its story's other members then; join: the story's members
    editor        VARCHAR NOT NULL,        -- who
    made_at            TIMESTAMPTZ NOT NULL,    -- when
    note          VARCHAR
);
