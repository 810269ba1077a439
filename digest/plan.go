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
	r, err := tx.ExecContext(ctx, p.DB.Rebind(`
		UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL, updated_at = ?
		WHERE status IN ('pending', 'retry') AND (? = 0 OR subscriber_id = ?)
		  AND run_id IN (SELECT id FROM runs WHERE cadence = ? AND at < ? AND id <> ?)`),
		"expired: superseded by edition "+run.Edition, now, only, only, string(run.Cadence), store.T(run.At), run.ID)
	if err != nil {
		return 0, fmt.Errorf("expire older deliveries: %w", err)
	}
	n, _ := r.RowsAffected()
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
	exec := func(what, q string, args ...any) (int64, error) {
		r, err := tx.ExecContext(ctx, db.Rebind(q), args...)
		if err != nil {
			return 0, fmt.Errorf("plan %s %s: %s: %w", run.Cadence, run.Edition, what, err)
		}
		n, _ := r.RowsAffected()
		return n, nil
	}
	temp := func(name, cols string) error {
		q := "CREATE TEMP TABLE " + name + " (" + cols + ")"
		if db.Dialect == store.Postgres {
			q += " ON COMMIT DROP"
		} else if _, err := exec("reset "+name, "DROP TABLE IF EXISTS temp."+name); err != nil {
			return err
		}
		_, err := exec("create "+name, q)
		return err
	}
	analyze := func(name string) error {
		if db.Dialect != store.Postgres {
			return nil
		}
		_, err := exec("analyze "+name, "ANALYZE "+name)
		return err
	}

	// 1. The members: active subscribers of the cadence not yet in the run, with
	//    their choice and history keys.
	if err := temp("plan_members", "subscriber_id BIGINT PRIMARY KEY, choice_key TEXT NOT NULL, history_key TEXT NOT NULL"); err != nil {
		return err
	}
	members, err := exec("members", `
		INSERT INTO plan_members (subscriber_id, choice_key, history_key)
		SELECT s.id,
			COALESCE((SELECT `+db.Agg("sr.region_code", ",", "sr.region_code")+` FROM subscriber_regions sr WHERE sr.subscriber_id = s.id), '')
			|| '|' ||
			COALESCE((SELECT `+db.Agg("st.topic_slug", ",", "st.topic_slug")+` FROM subscriber_topics st WHERE st.subscriber_id = s.id), ''),
			COALESCE((SELECT `+db.Agg("d.selection_id", ",", "d.selection_id")+`
				FROM deliveries d JOIN runs ru ON ru.id = d.run_id
				WHERE d.subscriber_id = s.id AND `+historyFilter+`), '')
		FROM subscribers s
		WHERE ((s.status = 'active' AND s.cadence = ?) OR s.id = ?) AND (? = 0 OR s.id = ?)
		  AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.run_id = ? AND x.subscriber_id = s.id)`,
		run.ID, since, string(run.Cadence), only, only, only, run.ID)
	if err != nil {
		return err
	}
	if members == 0 {
		_, err := exec("mark planned", `UPDATE runs SET planned_at = COALESCE(planned_at, ?) WHERE id = ?`, now, run.ID)
		return err
	}
	if err := analyze("plan_members"); err != nil {
		return err
	}
	if db.Dialect == store.SQLite {
		// SQLite joins by nested loops: without this index, once the run's
		// selections have statistics it scanned plan_members once per selection
		// (24 s of 26 s planning for 10,000 subscribers with history).
		if _, err := exec("index plan_members", `CREATE INDEX plan_members_keys ON plan_members (choice_key, history_key)`); err != nil {
			return err
		}
	}

	// 2. One selection per distinct (choices, history); total = -1 until computed.
	sels, err := exec("selections", `
		INSERT INTO selections (run_id, choice_key, history_key, total)
		SELECT DISTINCT CAST(? AS BIGINT), choice_key, history_key, -1 FROM plan_members WHERE true
		ON CONFLICT (run_id, choice_key, history_key) DO NOTHING`, run.ID)
	if err != nil {
		return err
	}
	res.Selections = int(sels)

	// 3. A representative member per new selection stands for the group's choices and history.
	//    The choice key is copied so that select.go pages through plan_reps alone.
	if err := temp("plan_reps", "selection_id BIGINT PRIMARY KEY, rep BIGINT NOT NULL, choice_key TEXT NOT NULL"); err != nil {
		return err
	}
	if _, err := exec("representatives", `
		INSERT INTO plan_reps (selection_id, rep, choice_key)
		SELECT sel.id, MIN(m.subscriber_id), sel.choice_key
		FROM selections sel JOIN plan_members m ON m.choice_key = sel.choice_key AND m.history_key = sel.history_key
		WHERE sel.run_id = ? AND sel.total < 0
		GROUP BY sel.id, sel.choice_key`, run.ID); err != nil {
		return err
	}
	if err := analyze("plan_reps"); err != nil {
		return err
	}

	// 4. The new articles of every selection, newest first, capped, with the
	//    count before the cap (select.go).
	if err := temp("plan_totals", "selection_id BIGINT PRIMARY KEY, total INTEGER NOT NULL, article_ids "+db.IDsType()); err != nil {
		return err
	}
	if err := p.selectArticles(ctx, tx, run, T, since); err != nil {
		return fmt.Errorf("plan %s %s: select articles: %w", run.Cadence, run.Edition, err)
	}
	if _, err := exec("selection articles", `
		UPDATE selections SET total = t.total, article_ids = t.article_ids
		FROM plan_totals t WHERE t.selection_id = selections.id`); err != nil {
		return err
	}
	if _, err := exec("empty selections", `UPDATE selections SET total = 0 WHERE run_id = ? AND total < 0`, run.ID); err != nil {
		return err
	}

	// 5. The deliveries, in selection order so that senders meet each selection in one stretch.
	planned, err := exec("deliveries", `
		INSERT INTO deliveries (run_id, subscriber_id, selection_id, status, updated_at)
		SELECT CAST(? AS BIGINT), m.subscriber_id, sel.id, CASE WHEN sel.total > 0 THEN 'pending' ELSE 'skipped' END, `+db.TimeArg()+`
		FROM plan_members m
		JOIN selections sel ON sel.run_id = ? AND sel.choice_key = m.choice_key AND sel.history_key = m.history_key
		WHERE true
		ORDER BY sel.id, m.subscriber_id
		ON CONFLICT (run_id, subscriber_id) DO NOTHING`, run.ID, now, run.ID)
	if err != nil {
		return err
	}
	res.Planned = int(planned)
	if err := tx.GetContext(ctx, &res.Skipped, db.Rebind(`
		SELECT count(*) FROM plan_members m
		JOIN selections sel ON sel.run_id = ? AND sel.choice_key = m.choice_key AND sel.history_key = m.history_key
		WHERE sel.total = 0`), run.ID); err != nil {
		return fmt.Errorf("count skipped: %w", err)
	}
	if _, err := exec("mark planned", `UPDATE runs SET planned_at = COALESCE(planned_at, ?) WHERE id = ?`, now, run.ID); err != nil {
		return err
	}
	if db.Dialect == store.SQLite {
		for _, t := range []string{"plan_members", "plan_reps", "plan_totals"} {
			if _, err := exec("drop "+t, "DROP TABLE temp."+t); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrNoRun means no run matches.
var ErrNoRun = errors.New("no such run")
