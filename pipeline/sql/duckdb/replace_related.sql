-- Replace every related list with the staged rows (`staged_related`), in one transaction.
DELETE FROM related_articles;
INSERT INTO related_articles BY NAME SELECT * FROM staged_related;
