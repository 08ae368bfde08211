-- Fold the write-ahead log into the file (compact: before the new file is renamed into place).
CHECKPOINT;
