-- Template: fill a staged table from CSV that pyarrow wrote (unquoted empty = NULL, "" = empty text).
COPY {name} ({columns}) FROM STDIN (FORMAT csv)
