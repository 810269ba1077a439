package digest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
)

// DefaultWindow is how far back an article's publication may lie to be new.
const DefaultWindow = 14 * 24 * time.Hour

// DefaultCap is the most articles one digest lists; the rest are "und N weitere".
const DefaultCap = 30

// Run is one edition of one cadence.
type Run struct {
	ID         int64        `db:"id"`
	Cadence    Cadence      `db:"cadence"`
	Edition    string       `db:"edition"`
	At         time.Time    `db:"at"` // the run time T that selection is judged by
	CreatedAt  time.Time    `db:"created_at"`
	PlannedAt  sql.NullTime `db:"planned_at"`
	FinishedAt sql.NullTime `db:"finished_at"`
}

// PlanResult says what planning did.
type PlanResult struct {
	Run        Run
	Resumed    bool // the run existed before this call
	Planned    int  // deliveries created by this call
	Selections int  // distinct selections created by this call
	Skipped    int  // of Planned: nothing new, no email
	Expired    int  // open deliveries of older editions that were given up
}

// Planner creates runs and their deliveries.
type Planner struct {
	DB     *store.DB
	Window time.Duration // DefaultWindow when zero
	Cap    int           // DefaultCap when zero
	Now    func() time.Time
}

func (p *Planner) window() time.Duration {
	if p.Window > 0 {
		return p.Window
	}
	return DefaultWindow
}

func (p *Planner) cap() int {
	if p.Cap > 0 {
		return p.Cap
	}
	return DefaultCap
}

// Plan creates (or resumes) the run of cadence for the edition of at and plans a
// delivery for every active subscriber of that cadence that has none in the run.
// With dryRun, everything is computed and counted and then rolled back.
func (p *Planner) Plan(ctx context.Context, cadence Cadence, at time.Time, dryRun bool) (PlanResult, error) {
	return p.plan(ctx, cadence, at, planOptions{dryRun: dryRun})
}

// planOptions narrow planning for previews.
type planOptions struct {
	dryRun bool
	// only, when set, plans this subscriber alone, whatever their status and cadence.
	only int64
	// inspect, when set, runs inside the planning transaction before it ends.
	inspect func(tx *sqlx.Tx, run Run) error
}

func (p *Planner) plan(ctx context.Context, cadence Cadence, at time.Time, opt planOptions) (PlanResult, error) {
	var res PlanResult
	db := p.DB
	now := store.T(p.Now())
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	if db.Dialect == store.Postgres {
		// Two daemons (or a daemon and a staff member) never plan at once.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7243001)`); err != nil {
			return res, fmt.Errorf("plan lock: %w", err)
		}
	}
	run, created, err := p.upsertRun(ctx, tx, cadence, at, now)
	if err != nil {
		return res, err
	}
	res.Run, res.Resumed = run, !created
	// A preview (only) expires that subscriber's older open deliveries in its
	// rolled-back transaction, so that it sees the history the edition will.
	if res.Expired, err = p.expireOlder(ctx, tx, run, now, opt.only); err != nil {
		return res, err
	}
	if err := p.selectAndDeliver(ctx, tx, run, now, opt.only, &res); err != nil {
		return res, err
	}
	if opt.inspect != nil {
		if err := opt.inspect(tx, run); err != nil {
			return res, err
		}
	}
	if opt.dryRun {
		return res, nil // rolled back by the deferred Rollback
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("plan %s %s: %w", cadence, run.Edition, err)
	}
	return res, nil
}

func (p *Planner) upsertRun(ctx context.Context, tx *sqlx.Tx, cadence Cadence, at, now time.Time) (Run, bool, error) {
	db := p.DB
	edition := Edition(cadence, at)
	r, err := tx.ExecContext(ctx, db.Rebind(`
		INSERT INTO runs (cadence, edition, at, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (cadence, edition) DO NOTHING`), string(cadence), edition, store.T(at), now)
	if err != nil {
		return Run{}, false, fmt.Errorf("create run %s %s: %w", cadence, edition, err)
	}
	n, _ := r.RowsAffected()
	var run Run
	err = tx.GetContext(ctx, &run, db.Rebind(`
		SELECT id, cadence, edition, at, created_at, planned_at, finished_at
		FROM runs WHERE cadence = ? AND edition = ?`), string(cadence), edition)
	return run, n > 0, err
}

// expireOlder gives up open deliveries of older editions of the same cadence, so
// that their articles can go out in this edition instead of never or twice.
// only, when not zero, narrows it to that subscriber's deliveries.
func (p *Planner) expireOlder(ctx context.Context, tx *sqlx.Tx, run Run, now time.Time, only int64) (int, error) {
	// Only unfinished runs can have open deliveries (see "Open runs" in
	// doc.go): looking at finished ones too would walk every delivery of
	// every older edition.
	older := `SELECT id FROM runs WHERE cadence = ? AND at < ? AND id <> ? AND finished_at IS NULL`
	args := []any{string(run.Cadence), store.T(run.At), run.ID}
	r, err := tx.ExecContext(ctx, p.DB.Rebind(`
		UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL, updated_at = ?
		WHERE status IN ('pending', 'retry') AND (? = 0 OR subscriber_id = ?)
		  AND run_id IN (`+older+`)`),
		append([]any{"expired: superseded by edition " + run.Edition, now, only, only}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("expire older deliveries: %w", err)
	}
	n, _ := r.RowsAffected()
	if only == 0 {
		// Those runs have nothing left to send: finish them, so that they
		// are not looked through again for open deliveries.
		if _, err := tx.ExecContext(ctx, p.DB.Rebind(`UPDATE runs SET finished_at = ? WHERE id IN (`+older+`)
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.run_id = runs.id AND d.status IN ('pending', 'retry'))`),
			append([]any{now}, args...)...); err != nil {
			return 0, fmt.Errorf("finish expired runs: %w", err)
		}
	}
	return int(n), nil
}

// historyFilter restricts deliveries d (joined with runs ru) to a subscriber's
// history for run: other runs within the window whose deliveries were or are
// about to be sent. Both the grouping key and the exclusion use it, so members of
// a group share the history the exclusion sees.
const historyFilter = `d.run_id <> ? AND d.status IN ('sent', 'pending', 'retry') AND d.selection_id IS NOT NULL AND ru.at > ?`

func (p *Planner) selectAndDeliver(ctx context.Context, tx *sqlx.Tx, run Run, now time.Time, only int64, res *PlanResult) error {
	db := p.DB
	T := store.T(run.At)
	since := store.T(run.At.Add(-p.window()))
	fail := func(what string, err error) error {
		return fmt.Errorf("plan %s %s: %s: %w", run.Cadence, run.Edition, what, err)
	}
	// markPlanned is planning's last statement: after the deliveries, so
	// that a sender finishing the run meanwhile (send.go, finish) either
	// waits for this transaction and sees them or is overwritten by it.
	markPlanned := func(open bool) error {
		q := `UPDATE runs SET planned_at = COALESCE(planned_at, ?) WHERE id = ?`
		if open {
			// New pending deliveries reopen a finished run (see "Open runs" in doc.go).
			q = `UPDATE runs SET planned_at = COALESCE(planned_at, ?), finished_at = NULL WHERE id = ?`
		}
		if _, err := tx.ExecContext(ctx, db.Rebind(q), now, run.ID); err != nil {
			return fail("mark planned", err)
		}
		return nil
	}

	// 1. The members, grouped in Go by (choices, history) as they stream in.
	g, err := p.readMembers(ctx, tx, run, since, only)
	if err != nil {
		return fail("members", err)
	}
	if g.members == 0 {
		return markPlanned(false)
	}
	// 2. A resumed run's existing selections serve the groups they match.
	if err := g.matchExisting(ctx, db, tx, run); err != nil {
		return fail("existing selections", err)
	}
	// 3. The new groups' articles and their selections (select.go).
	if err := p.selectArticles(ctx, tx, g, run, T, since); err != nil {
		return fail("select articles", err)
	}
	res.Selections = len(g.fresh)
	// 4. The deliveries, in selection order so that senders meet each selection in one stretch.
	planned, skipped, err := g.insertDeliveries(ctx, db, tx, run, now)
	if err != nil {
		return fail("deliveries", err)
	}
	res.Planned, res.Skipped = planned, skipped
	return markPlanned(planned > skipped)
}

// ErrNoRun means no run matches.
var ErrNoRun = errors.New("no such run")
