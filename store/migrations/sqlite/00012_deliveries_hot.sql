-- +goose Up
-- As on PostgreSQL (see its 00012): claims find open deliveries through the
-- (run_id, id) index from the claim cursor, so the partial index that every
-- record had to update goes.
DROP INDEX deliveries_open;
CREATE INDEX deliveries_run ON deliveries (run_id, id);

-- +goose Down
DROP INDEX deliveries_run;
CREATE INDEX deliveries_open ON deliveries (run_id, id) WHERE status IN ('pending', 'retry');
