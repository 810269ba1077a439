-- +goose Up
-- Deleting a selection (with its run) checks that no delivery refers to it.
-- Without this index that check reads every delivery: deleting one run of
-- 100,000 subscribers (52,000 selections) took more than four minutes on
-- PostgreSQL. See BENCHMARKS.md.
CREATE INDEX deliveries_selection ON deliveries (selection_id);

-- +goose Down
DROP INDEX deliveries_selection;
