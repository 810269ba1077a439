-- +goose Up
-- Let the two updates every delivery gets while it is sent (the claim sets
-- claimed_by, the record sets status, sent_at, message_id) be heap-only
-- (HOT): no column they change is indexed any more, and each page keeps
-- room for the new row versions. The partial index deliveries_open had
-- status in its predicate, so every record wrote a new entry in each of the
-- five indexes. Claims find open deliveries through (run_id, id) from the
-- claim cursor (id > after) instead: that index holds no column an update
-- changes. (Without it the planner, with statistics older than the run,
-- scanned the whole run through the (run_id, subscriber_id) key per claim.)
-- See BENCHMARKS.md, "Issue 12: group-committed records".
DROP INDEX deliveries_open;
CREATE INDEX deliveries_run ON deliveries (run_id, id);
ALTER TABLE deliveries SET (fillfactor = 60);

-- +goose Down
DROP INDEX deliveries_run;
ALTER TABLE deliveries RESET (fillfactor);
CREATE INDEX deliveries_open ON deliveries (run_id, id) WHERE status IN ('pending', 'retry');
