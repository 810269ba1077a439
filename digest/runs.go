package digest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kommune21/digest/store"
)

// RunStats is a run with its delivery counts.
type RunStats struct {
	Run
	Planned int `db:"planned"`
	Sent    int `db:"sent"`
	Retry   int `db:"retry"`
	Failed  int `db:"failed"`
	Skipped int `db:"skipped"`
	Pending int `db:"pending"`
}

// ErrorGroup counts the deliveries of a run that share a last error.
type ErrorGroup struct {
	Status string `db:"status" json:"status"`
	Reason string `db:"reason" json:"reason"`
	Count  int    `db:"n" json:"count"`
}

const runStatsSQL = `SELECT r.id, r.cadence, r.edition, r.at, r.created_at, r.planned_at, r.finished_at,
	COUNT(d.id) AS planned,
	COUNT(CASE WHEN d.status = 'sent' THEN 1 END) AS sent,
	COUNT(CASE WHEN d.status = 'retry' THEN 1 END) AS retry,
	COUNT(CASE WHEN d.status = 'failed' THEN 1 END) AS failed,
	COUNT(CASE WHEN d.status = 'skipped' THEN 1 END) AS skipped,
	COUNT(CASE WHEN d.status = 'pending' THEN 1 END) AS pending
	FROM runs r LEFT JOIN deliveries d ON d.run_id = r.id `

const runStatsGroup = ` GROUP BY r.id, r.cadence, r.edition, r.at, r.created_at, r.planned_at, r.finished_at`

// ListRuns returns every run, newest first, with counts.
func ListRuns(ctx context.Context, db *store.DB) ([]RunStats, error) {
	var rs []RunStats
	err := db.SelectContext(ctx, &rs, runStatsSQL+runStatsGroup+` ORDER BY r.at DESC, r.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return rs, nil
}

// GetRun returns one run with counts; id 0 means the latest. ErrNoRun when none.
func GetRun(ctx context.Context, db *store.DB, id int64) (RunStats, error) {
	var r RunStats
	q := runStatsSQL + `WHERE r.id = ?` + runStatsGroup
	args := []any{id}
	if id == 0 {
		q, args = runStatsSQL+`WHERE r.id = (SELECT id FROM runs ORDER BY at DESC, id DESC LIMIT 1)`+runStatsGroup, nil
	}
	err := db.GetContext(ctx, &r, db.Rebind(q), args...)
	if errors.Is(err, sql.ErrNoRows) {
		if id == 0 {
			return r, fmt.Errorf("%w: no run yet; start one with `digest run`", ErrNoRun)
		}
		return r, fmt.Errorf("%w with id %d; see `digest runs list`", ErrNoRun, id)
	}
	return r, err
}

// FindRun returns the run of a cadence's edition, if any.
func FindRun(ctx context.Context, db *store.DB, cadence Cadence, edition string) (Run, bool, error) {
	var r Run
	err := db.GetContext(ctx, &r, db.Rebind(`SELECT id, cadence, edition, at, created_at, planned_at, finished_at
		FROM runs WHERE cadence = ? AND edition = ?`), string(cadence), edition)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

// RunErrors groups the failed, retrying and skipped deliveries of a run by reason.
func RunErrors(ctx context.Context, db *store.DB, id int64) ([]ErrorGroup, error) {
	var gs []ErrorGroup
	err := db.SelectContext(ctx, &gs, db.Rebind(`
		SELECT status, last_error AS reason, COUNT(*) AS n FROM deliveries
		WHERE run_id = ? AND status IN ('retry', 'failed', 'skipped') AND last_error <> ''
		GROUP BY status, last_error ORDER BY n DESC, status, last_error`), id)
	return gs, err
}

// NextRetry returns when the earliest retry of a run is due (zero when none).
func NextRetry(ctx context.Context, db *store.DB, id int64) (time.Time, error) {
	// Not MIN(next_attempt_at): SQLite returns an aggregate of a time column as
	// text, which does not scan into a time.
	var t sql.NullTime
	err := db.GetContext(ctx, &t, db.Rebind(`SELECT next_attempt_at FROM deliveries
		WHERE run_id = ? AND status = 'retry' AND next_attempt_at IS NOT NULL ORDER BY next_attempt_at LIMIT 1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return t.Time, err
}

// OpenRuns returns runs that still have deliveries to send or retry. Only
// unfinished runs are looked through ("Open runs" in doc.go): a finished
// run has none, and deliveries have no index on their status.
func OpenRuns(ctx context.Context, db *store.DB) ([]Run, error) {
	var rs []Run
	err := db.SelectContext(ctx, &rs, `SELECT id, cadence, edition, at, created_at, planned_at, finished_at FROM runs r
		WHERE r.finished_at IS NULL AND `+firstOpen(`r.id`)+` IS NOT NULL
		ORDER BY at, id`)
	return rs, err
}

// firstOpen is a subquery for the id of the first open delivery of run (an
// SQL expression), or NULL. It reads the run's deliveries through the
// (run_id, id) index in its order: a plain EXISTS lets PostgreSQL, with
// statistics from before the run was sent (most of its deliveries pending),
// expect an open delivery early in a sequential scan of all deliveries of
// all runs, and that scan reads everything when there is none. Ordered by
// (run_id, id) with LIMIT 1, only that index gives the order without a sort.
func firstOpen(run string) string {
	return `(SELECT d.id FROM deliveries d WHERE d.run_id = ` + run + ` AND d.status IN ('pending', 'retry') ORDER BY d.run_id, d.id LIMIT 1)`
}
