-- +goose Up
-- A selection's articles, newest first, as one compact column instead of one
-- selection_articles row per (selection, article): at 100,000 subscribers
-- that table took 1.5 million foreign-key-checked rows per edition (22 s of
-- 33 s planning, see BENCHMARKS.md). A JSON array of article ids ("[12,7]");
-- NULL: not yet selected, or pruned. Unlike the rows, the list has no foreign
-- key to articles; articles are never deleted, and a reader skips an id it
-- does not find.
ALTER TABLE selections ADD COLUMN article_ids TEXT;
UPDATE selections SET article_ids = (
    SELECT json_group_array(sa.article_id ORDER BY sa.position)
    FROM selection_articles sa WHERE sa.selection_id = selections.id)
WHERE id IN (SELECT selection_id FROM selection_articles);
DROP TABLE selection_articles;

-- +goose Down
CREATE TABLE selection_articles (
    selection_id BIGINT NOT NULL REFERENCES selections (id) ON DELETE CASCADE,
    article_id   BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    PRIMARY KEY (selection_id, article_id)
);
INSERT OR IGNORE INTO selection_articles (selection_id, article_id, position)
SELECT s.id, u.value, u.key + 1
FROM selections s, json_each(s.article_ids) AS u
WHERE EXISTS (SELECT 1 FROM articles a WHERE a.id = u.value);
ALTER TABLE selections DROP COLUMN article_ids;
