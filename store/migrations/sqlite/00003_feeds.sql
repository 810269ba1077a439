-- +goose Up
-- The HTTP validators of each fetched feed URL, for conditional GET.
CREATE TABLE feeds (
    url           TEXT PRIMARY KEY,
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    checked_at    TIMESTAMP NOT NULL,
    changed_at    TIMESTAMP
);

-- +goose Down
DROP TABLE feeds;
