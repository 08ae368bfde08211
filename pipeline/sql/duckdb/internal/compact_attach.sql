-- `newsflow warehouse compact` (pipeline.warehouse.compact): the old file, read-only, beside
-- the new one being filled (the path is filled in by the caller, quotes doubled: ATTACH
-- takes no parameter).
ATTACH '{path}' AS compact_src (READ_ONLY);
