-- Whether the optional full-text column exists (1) or not (0).
SELECT count(*) FROM information_schema.columns WHERE table_name = 'articles' AND column_name = 'search_tsv'
  AND table_schema = current_schema();
