-- +goose Up
-- As on PostgreSQL (see its 00014): claims find open deliveries through the
-- (run_id, id) index from the claim cursor, so the partial index that every
-- record had to update goes, and queries across runs rely on
-- runs.finished_at being NULL for every run with an open delivery. First
-- make finished_at agree with the deliveries (older versions did not clear
-- it when a finished edition was planned again, and left fully expired runs
-- unfinished).
UPDATE runs SET finished_at = NULL
WHERE finished_at IS NOT NULL
  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = runs.id AND d.status IN ('pending', 'retry'));
UPDATE runs SET finished_at = COALESCE((SELECT max(d.updated_at) FROM deliveries d WHERE d.run_id = runs.id), planned_at, created_at)
WHERE finished_at IS NULL AND planned_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = runs.id AND d.status IN ('pending', 'retry'));
DROP INDEX deliveries_open;
CREATE INDEX deliveries_run ON deliveries (run_id, id);

-- +goose Down
DROP INDEX deliveries_run;
CREATE INDEX deliveries_open ON deliveries (run_id, id) WHERE status IN ('pending', 'retry');
