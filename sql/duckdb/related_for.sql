-- Related list served for one article.
-- $1 article_id, $2 reader language (NULL: the article's own), $3 limit.
-- Lists are stored per story canonical; a copy or translation reads its canonical's list.
-- Each related story is shown through its member in the reader's language when it has one;
-- reader-language results come first; the reader's own story is never offered.
WITH target AS (
    SELECT article_id, coalesce(duplicate_of, article_id) AS canonical_id,
           story_id, coalesce($2, language) AS lang
    FROM articles WHERE article_id = $1
),
ranked AS (
    SELECT r.rank, r.score, r.related_id, ra.story_id
    FROM target t
    JOIN related_articles r ON r.article_id = t.canonical_id
    JOIN articles ra ON ra.article_id = r.related_id
    WHERE ra.story_id IS DISTINCT FROM t.story_id
),
choice AS (
    SELECT rk.rank, rk.score, m.article_id AS member_id,
           row_number() OVER (
               PARTITION BY rk.story_id
               ORDER BY (m.language = t.lang) DESC, (m.article_id = rk.related_id) DESC,
                        m.published_at, m.article_id
           ) AS pick
    FROM ranked rk
    JOIN articles m ON m.story_id = rk.story_id
    CROSS JOIN target t
)
SELECT a.article_id, a.title, a.url, a.source_domain, a.language, a.published_at, c.score
FROM choice c
JOIN articles a ON a.article_id = c.member_id
CROSS JOIN target t
WHERE c.pick = 1
ORDER BY (a.language = t.lang) DESC, c.score DESC, c.rank
LIMIT $3;
