-- +goose Up
-- A selection's articles, newest first, as one compact column instead of one
-- selection_articles row per (selection, article): at 100,000 subscribers
-- that table took 1.5 million foreign-key-checked rows per edition (22 s of
-- 33 s planning, see BENCHMARKS.md). NULL: not yet selected, or pruned.
-- Unlike the rows, the list has no foreign key to articles; articles are never
-- deleted, and a reader skips an id it does not find.
ALTER TABLE selections ADD COLUMN article_ids BIGINT[];
UPDATE selections s SET article_ids = x.ids
FROM (SELECT selection_id, array_agg(article_id ORDER BY position) AS ids
      FROM selection_articles GROUP BY selection_id) x
WHERE x.selection_id = s.id;
DROP TABLE selection_articles;

-- +goose Down
CREATE TABLE selection_articles (
    selection_id BIGINT NOT NULL REFERENCES selections (id) ON DELETE CASCADE,
    article_id   BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    PRIMARY KEY (selection_id, article_id)
);
INSERT INTO selection_articles (selection_id, article_id, position)
SELECT s.id, u.article_id, u.position
FROM selections s, unnest(s.article_ids) WITH ORDINALITY AS u(article_id, position)
WHERE EXISTS (SELECT 1 FROM articles a WHERE a.id = u.article_id)
ON CONFLICT DO NOTHING;
ALTER TABLE selections DROP COLUMN article_ids;
