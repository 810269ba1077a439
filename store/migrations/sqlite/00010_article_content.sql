-- +goose Up
-- The feed's full text of an article (plain text, at most 20,000 characters),
-- kept so that tagging can use it and `digest articles retag` can re-run on it.
ALTER TABLE articles ADD COLUMN content TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE articles DROP COLUMN content;
