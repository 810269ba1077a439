-- +goose Up
-- PostgreSQL drops the foreign key of deliveries.selection_id in this version
-- (see its migration 00013). SQLite keeps it: its check is an in-process
-- index lookup, and dropping it would mean rebuilding the table. This
-- migration only keeps the version numbers of the two dialects aligned.
SELECT 1;

-- +goose Down
SELECT 1;
