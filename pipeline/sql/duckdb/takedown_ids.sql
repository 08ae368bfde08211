-- The articles taken down (loads leave them out, whatever the lake batch held).
SELECT article_id FROM takedowns;
