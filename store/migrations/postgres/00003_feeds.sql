-- +goose Up
-- The HTTP validators of each fetched feed URL, for conditional GET.
CREATE TABLE feeds (
    url           TEXT PRIMARY KEY,
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    checked_at    TIMESTAMPTZ NOT NULL,
    changed_at    TIMESTAMPTZ
);

-- +goose Down
DROP TABLE feeds;
