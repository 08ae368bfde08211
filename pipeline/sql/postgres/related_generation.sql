-- The related generation the warehouse holds and its reader-language floor (no row: none yet).
SELECT generation, min_score FROM related_state WHERE singleton = 1;
