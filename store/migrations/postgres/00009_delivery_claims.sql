-- +goose Up
-- A delivery being sent is claimed by one sending process: claimed_by is the
-- PostgreSQL backend id of that process's lock connection, which holds an
-- advisory lock for as long as the process sends. Claims are committed at
-- once, and each outcome is recorded as soon as the server has answered, so
-- a crash repeats at most the one message per connection whose acceptance
-- was not yet recorded. A claim whose owner no longer holds its lock (the
-- process died) is released by the next sender. NULL: not claimed. SQLite
-- (one sender per database) does not use it.
ALTER TABLE deliveries ADD COLUMN claimed_by BIGINT;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN claimed_by;
