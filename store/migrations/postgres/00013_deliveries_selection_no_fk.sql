-- +goose Up
-- deliveries.selection_id keeps no foreign key on PostgreSQL: its per-row
-- check (a lookup and a FOR KEY SHARE lock of the selection) was about a
-- third of the deliveries insert, the largest cost of planning (BENCHMARKS.md,
-- "Issue 12: planning"). Integrity holds without it: deliveries are written
-- only by the planner, with the ids of selections it inserted (or read) in
-- the same transaction for the same run under the planning lock; a selection
-- is deleted only with its run (ON DELETE CASCADE), which deletes the run's
-- deliveries with it; pruning clears a selection's article list, never the
-- row. digest's TestPlanner_DeliveriesReferTheirRunsSelections checks it.
-- The index deliveries_selection stays: the browser view asks whether a
-- selection was sent. SQLite keeps its foreign key (its check is cheap).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_selection_id_fkey;

-- +goose Down
ALTER TABLE deliveries ADD CONSTRAINT deliveries_selection_id_fkey FOREIGN KEY (selection_id) REFERENCES selections (id);
