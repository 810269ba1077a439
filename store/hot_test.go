package store_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
)

// TestMigration14_RunsAgreeWithDeliveries: migration 00014 drops the index
// of open deliveries, after which only unfinished runs are looked through
// for them. So it first reopens a finished run that has an open delivery
// (an edition planned again for a new subscriber by an older version) and
// finishes a planned run that has none left (all expired).
func TestMigration14_RunsAgreeWithDeliveries(t *testing.T) {
	eachAtSchema(t, 13, func(t *testing.T, ctx context.Context, db *store.DB) {
		at := store.T(time.Date(2026, 2, 23, 6, 0, 0, 0, time.UTC))
		last := at.Add(3 * time.Hour)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO runs (id, cadence, edition, at, created_at, planned_at, finished_at) VALUES
			(1, 'weekly', '2026-W07', ?, ?, ?, ?),
			(2, 'weekly', '2026-W08', ?, ?, ?, NULL),
			(3, 'weekly', '2026-W09', ?, ?, ?, NULL),
			(4, 'daily', '2026-02-23', ?, ?, ?, ?)`,
			at, at, at, at.Add(time.Hour), at, at, at, at, at, at, at, at, at, at.Add(time.Hour))
		exec(`INSERT INTO deliveries (run_id, status, updated_at) VALUES
			(1, 'sent', ?), (1, 'pending', ?),
			(2, 'sent', ?), (2, 'failed', ?),
			(3, 'sent', ?), (3, 'retry', ?),
			(4, 'sent', ?)`, at, at, at, last, at, at, at)
		if err := db.MigrateTo(ctx, 14); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			id       int64
			finished sql.NullTime
			why      string
		}{
			{1, sql.NullTime{}, "finished with a pending delivery: reopened"},
			{2, sql.NullTime{Time: last, Valid: true}, "unfinished with nothing open: finished at its last delivery's update"},
			{3, sql.NullTime{}, "unfinished with a retry: stays open"},
			{4, sql.NullTime{Time: at.Add(time.Hour), Valid: true}, "finished with nothing open: unchanged"},
		} {
			var got sql.NullTime
			if err := db.GetContext(ctx, &got, db.Rebind(`SELECT finished_at FROM runs WHERE id = ?`), c.id); err != nil {
				t.Fatal(err)
			}
			if got.Valid != c.finished.Valid || (got.Valid && !got.Time.Equal(c.finished.Time)) {
				t.Errorf("run %d (%s): finished_at %v, want %v", c.id, c.why, got, c.finished)
			}
		}
	})
}

// TestSchema_DeliveryIndexesAvoidSendColumns: no index of deliveries names a
// column that sending changes, so that on PostgreSQL the claim and the record
// of each delivery are heap-only updates (digest's "Open runs").
func TestSchema_DeliveryIndexesAvoidSendColumns(t *testing.T) {
	eachAtSchema(t, 14, func(t *testing.T, ctx context.Context, db *store.DB) {
		var defs []string
		q := `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'deliveries'`
		if db.Dialect == store.SQLite {
			q = `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' AND sql IS NOT NULL`
		}
		if err := db.SelectContext(ctx, &defs, q); err != nil {
			t.Fatal(err)
		}
		if len(defs) == 0 {
			t.Fatal("no indexes of deliveries found")
		}
		var run bool
		for _, d := range defs {
			for _, col := range []string{"status", "claimed_by", "attempts", "next_attempt_at", "last_error", "message_id", "sent_at", "updated_at"} {
				if strings.Contains(strings.ToLower(d), col) {
					t.Errorf("index %q names %s, which sending changes", d, col)
				}
			}
			run = run || strings.Contains(strings.ReplaceAll(d, " ", ""), "(run_id,id)")
		}
		if !run {
			t.Errorf("no (run_id, id) index for claims among %q", defs)
		}
	})
}
