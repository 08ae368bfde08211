-- After a takedown: rewrite the affected tables (VACUUM FULL writes new heap and TOAST
-- files without the dead tuples and drops the old ones; a plain VACUUM only marks the
-- space free and can leave the deleted bytes in the pages).  Runs outside a transaction.
VACUUM FULL articles;
VACUUM FULL article_revisions;
VACUUM FULL article_links;
VACUUM FULL related_articles;
