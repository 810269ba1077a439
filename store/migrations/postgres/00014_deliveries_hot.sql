-- +goose Up
-- Let the two updates every delivery gets while it is sent (the claim sets
-- claimed_by, the record sets status, sent_at, message_id) be heap-only
-- (HOT) updates: no index of deliveries mentions a column they change any
-- more, and fillfactor 60 leaves room on each page for the new row
-- versions. The partial index deliveries_open had status in its predicate,
-- so every record wrote a new entry in each of the table's five indexes.
-- Claims walk the run's deliveries through (run_id, id) from the claim
-- cursor instead. Queries that looked for open deliveries across runs
-- (OpenRuns, expiry of older editions, the metrics queue depth) look only
-- at runs with finished_at IS NULL, which holds for every run with an open
-- (pending or retry) delivery: finish sets finished_at only when none is
-- left, planning clears it when it adds a pending delivery (digest/doc.go,
-- "Open runs"). (Numbered 00014, not 00012: goose refuses a migration older
-- than a database's current version, and 00013 is on databases already.)
--
-- Before the index goes, make runs.finished_at agree with the deliveries:
-- older versions did not clear it when a finished edition was planned
-- again for new subscribers, and left runs whose open deliveries were all
-- expired unfinished.
UPDATE runs SET finished_at = NULL
WHERE finished_at IS NOT NULL
  AND EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = runs.id AND d.status IN ('pending', 'retry'));
UPDATE runs SET finished_at = COALESCE((SELECT max(d.updated_at) FROM deliveries d WHERE d.run_id = runs.id), planned_at, created_at)
WHERE finished_at IS NULL AND planned_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = runs.id AND d.status IN ('pending', 'retry'));
DROP INDEX deliveries_open;
CREATE INDEX deliveries_run ON deliveries (run_id, id);
ALTER TABLE deliveries SET (fillfactor = 60);

-- +goose Down
DROP INDEX deliveries_run;
ALTER TABLE deliveries RESET (fillfactor);
CREATE INDEX deliveries_open ON deliveries (run_id, id) WHERE status IN ('pending', 'retry');
