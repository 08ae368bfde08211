-- Related list served for one article.
-- $article_id article_id, $lang reader language (NULL: the article's own), $limit limit.
-- Lists are stored per story canonical; a copy or translation reads its canonical's list.
-- Each related story is shown through its member in the reader's language when it has one;
-- reader-language results scoring at least related_state.min_score come first, then the
-- rest by score; the reader's own story is never offered.
WITH target AS (
    SELECT article_id, coalesce(duplicate_of, article_id) AS canonical_id,
           story_id, coalesce($lang, language) AS lang
    FROM articles WHERE article_id = $article_id
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
ORDER BY (a.language = t.lang AND c.score >= coalesce((SELECT min_score FROM related_state WHERE singleton = 1), 0)) DESC,
         c.score DESC, c.rank
LIMIT $limit;
