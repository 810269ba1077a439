package digest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
)

// Delivery statuses.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusRetry   = "retry"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Backoff is the wait before each further attempt after a temporary failure:
// 8 attempts over about a day, then the delivery fails.
var Backoff = []time.Duration{5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour}

// MaxAttempts is the number of attempts before a temporary failure becomes final.
var MaxAttempts = len(Backoff) + 1

// claimed is one delivery taken from the outbox for sending.
type claimed struct {
	ID           int64  `db:"id"`
	SubscriberID *int64 `db:"subscriber_id"`
	SelectionID  int64  `db:"selection_id"`
	Attempts     int    `db:"attempts"`
	Email        string `db:"email"`
	Name         string `db:"name"`
	Status       string `db:"sub_status"`
}

// batch is a set of claimed deliveries. On PostgreSQL they are claimed in
// the database (claimed_by) by the worker connection that claimed them; on
// SQLite (one sending process) the sender keeps them in memory.
type batch struct {
	items []claimed
}

// outcome is what happened to one claimed delivery.
type outcome struct {
	id     int64
	status string // sent, retry, failed, skipped
	err    string // reason for retry, failed and skipped
	bounce bool   // the mailbox is gone: the subscriber becomes bounced
	subID  int64
}

type outbox struct {
	db     *store.DB
	run    Run
	domain string // for Message-IDs
}

// dbConn is what the outbox needs of a database handle: the pool (SQLite)
// or one worker's own connection (PostgreSQL).
type dbConn interface {
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	BeginTxx(ctx context.Context, opts *sql.TxOptions) (*sqlx.Tx, error)
}

// claimLockClass is the first key of the PostgreSQL advisory lock a worker
// connection holds while it sends; the second is its backend id, which is
// what claimed_by holds. ("dig1")
const claimLockClass = 0x64696731

// workerConn is one sending worker's database handle. On PostgreSQL it is a
// connection of its own that holds the worker's advisory lock and commits
// asynchronously (synchronous_commit = off: a crash of this process loses
// nothing committed; only a crash of the database server could lose the
// last fraction of a second of outcomes, and those messages would be sent
// again). On SQLite it is the pool.
type workerConn struct {
	q     dbConn
	conn  *sqlx.Conn // PostgreSQL
	token int64      // PostgreSQL: backend id, the claimed_by of this worker's claims
	// claimStmt is the claim prepared on conn (PostgreSQL): one round trip
	// per claim instead of two, and the server plans it once.
	claimStmt *sqlx.Stmt
}

// openWorker prepares a worker's handle. On PostgreSQL it takes the worker's
// lock and gives back claims a dead process left under the same backend id.
func (o *outbox) openWorker(ctx context.Context) (*workerConn, error) {
	if o.db.Dialect != store.Postgres {
		return &workerConn{q: o.db}, nil
	}
	c, err := o.db.Connx(ctx)
	if err != nil {
		return nil, err
	}
	w := &workerConn{q: c, conn: c}
	if err := c.GetContext(ctx, &w.token, `SELECT pg_backend_pid()`); err != nil {
		c.Close()
		return nil, fmt.Errorf("sender connection: %w", err)
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`SET synchronous_commit = off`, nil},
		{`SELECT pg_advisory_lock($1, $2)`, []any{claimLockClass, w.token}},
		// Claims under this backend id are a dead process's that had it before.
		{`UPDATE deliveries SET claimed_by = NULL WHERE run_id = $1 AND claimed_by = $2`, []any{o.run.ID, w.token}},
	} {
		if _, err := c.ExecContext(ctx, st.q, st.args...); err != nil {
			w.close()
			return nil, fmt.Errorf("sender connection: %w", err)
		}
	}
	if w.claimStmt, err = c.PreparexContext(ctx, o.db.Rebind(o.claimQuery(false))); err != nil {
		w.close()
		return nil, fmt.Errorf("sender connection: prepare the claim: %w", err)
	}
	return w, nil
}

// close gives the lock up and the connection back with the default commit
// behaviour.
func (w *workerConn) close() {
	if w.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if w.claimStmt != nil {
		w.claimStmt.Close()
	}
	_, err := w.conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, claimLockClass, w.token)
	if err == nil {
		_, err = w.conn.ExecContext(ctx, `RESET synchronous_commit`)
	}
	if err != nil {
		// Never hand a connection in an unknown state back to the pool.
		_ = w.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	w.conn.Close()
}

// releaseDead gives back the claims of run whose owner no longer holds its
// lock: a process that crashed or was killed while it sent. Their messages
// were not recorded as sent; at most one per connection of the dead process
// was accepted by the server (its outcome was being written).
func (o *outbox) releaseDead(ctx context.Context) (int64, error) {
	if o.db.Dialect != store.Postgres {
		return 0, nil
	}
	res, err := o.db.ExecContext(ctx, `UPDATE deliveries d SET claimed_by = NULL
		WHERE d.run_id = $1 AND d.claimed_by IS NOT NULL AND NOT EXISTS (
			SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
			AND l.classid = $2 AND l.objsubid = 2 AND CAST(l.objid AS BIGINT) = d.claimed_by)`, o.run.ID, claimLockClass)
	if err != nil {
		return 0, fmt.Errorf("release claims of stopped senders of run %d: %w", o.run.ID, err)
	}
	return res.RowsAffected()
}

const claimColumns = `d.id, d.subscriber_id, d.selection_id, d.attempts,
	COALESCE(s.email, '') AS email, COALESCE(s.name, '') AS name, COALESCE(s.status, '') AS sub_status`

// claim takes up to n due, unclaimed deliveries of the run with ids above
// after, skipping those in exclude (SQLite: deliveries this process is still
// sending). On PostgreSQL the claim is committed at once with the worker's
// token, so other processes skip those deliveries, and a crash leaves them
// to releaseDead.
//
// after lets a sender continue where its last claim ended: claims walk the
// run's deliveries in id order through the (run_id, id) index (migration
// 00014 replaced a partial index of open deliveries by it, so that claims
// and records are heap-only updates; see "Open runs" in doc.go), and a claim
// that always started from the lowest id would walk every delivery sent so
// far, a cost that grows with every message sent (at 100,000 deliveries a
// claim took 50–200 ms).
func (o *outbox) claim(ctx context.Context, w *workerConn, n int, now time.Time, after int64, exclude []int64) (*batch, error) {
	db := o.db
	b := &batch{}
	var err error
	// lib/pq marks a connection bad when the context of a query ends
	// before its rows are closed; the claim is one short statement.
	qctx := context.WithoutCancel(ctx)
	if w.claimStmt != nil {
		err = w.claimStmt.SelectContext(qctx, &b.items, w.token, o.run.ID, after, store.T(now), n)
	} else {
		q := o.claimQuery(len(exclude) > 0)
		args := []any{o.run.ID, after, store.T(now)}
		if len(exclude) > 0 {
			args = append(args, exclude)
		}
		args = append(args, n)
		if q, args, err = db.In(q, args...); err != nil {
			return nil, err
		}
		err = w.q.SelectContext(qctx, &b.items, q, args...)
	}
	if err != nil {
		return nil, fmt.Errorf("claim deliveries of run %d: %w", o.run.ID, err)
	}
	if len(b.items) == 0 {
		return nil, nil
	}
	return b, nil
}

// claimQuery is the claim statement with ? placeholders. On PostgreSQL its
// arguments are the worker's token, the run, after, now and the limit; on
// SQLite the run, after, now, the excluded ids (when exclude, for db.In)
// and the limit.
func (o *outbox) claimQuery(exclude bool) string {
	where := `d.run_id = ? AND d.id > ? AND d.status IN ('pending', 'retry') AND (d.status = 'pending' OR d.next_attempt_at <= ?)`
	if exclude {
		where += ` AND d.id NOT IN (?)`
	}
	if o.db.Dialect == store.Postgres {
		return `WITH c AS (UPDATE deliveries u SET claimed_by = ? WHERE u.id IN (
				SELECT d.id FROM deliveries d WHERE ` + where + ` AND d.claimed_by IS NULL ORDER BY d.id LIMIT ? FOR UPDATE SKIP LOCKED)
			RETURNING u.id, u.subscriber_id, u.selection_id, u.attempts)
			SELECT ` + strings.ReplaceAll(claimColumns, "d.", "c.") + ` FROM c LEFT JOIN subscribers s ON s.id = c.subscriber_id ORDER BY c.id`
	}
	return `SELECT ` + claimColumns + ` FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
		WHERE ` + where + ` ORDER BY d.id LIMIT ?`
}

// release gives back claimed deliveries that were not tried.
func (o *outbox) release(ctx context.Context, w *workerConn, items []claimed) error {
	if w.conn == nil || len(items) == 0 {
		return nil
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	q, args, err := o.db.In(`UPDATE deliveries SET claimed_by = NULL WHERE id IN (?) AND claimed_by = ?`, ids, w.token)
	if err == nil {
		_, err = w.q.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return fmt.Errorf("give back deliveries of run %d: %w", o.run.ID, err)
	}
	return nil
}

// messageID is the Message-ID (without brackets) of a delivery: derived from run
// and delivery, so a message sent twice in the crash window is recognisable.
// The recorder writes the same value in SQL (recorder.sent); a test compares them.
func (o *outbox) messageID(deliveryID int64) string {
	return fmt.Sprintf("r%d.d%d@%s", o.run.ID, deliveryID, o.domain)
}

// record writes the outcome of one delivery that the server did not accept
// (or that was skipped) before the worker's next message; accepted ones go
// to the recorder (recorder.go). A skip is one statement; a failure, which
// may bounce the subscriber, is a transaction. It reports whether the
// outcome was recorded: a retry or failure of a delivery that planning
// expired while its message was in flight is not (see below).
func (o *outbox) record(ctx context.Context, w *workerConn, it claimed, out outcome, now time.Time) (bool, error) {
	db := o.db
	now = store.T(now)
	fail := func(err error) error {
		return &RecordError{RunID: o.run.ID, DeliveryID: out.id, Status: out.status, Err: err}
	}
	switch out.status {
	case StatusSkipped:
		_, err := w.q.ExecContext(ctx, db.Rebind(`UPDATE deliveries SET status = 'skipped', last_error = 'subscriber left after planning', updated_at = ?, claimed_by = NULL WHERE id = ?`),
			now, out.id)
		if err != nil {
			return false, fail(err)
		}
		return true, nil
	}
	tx, err := w.q.BeginTxx(ctx, nil)
	if err != nil {
		return false, fail(err)
	}
	defer tx.Rollback()
	attempts := it.Attempts + 1
	status, next := out.status, any(nil)
	if status == StatusRetry {
		if attempts >= MaxAttempts {
			status, out.err = StatusFailed, fmt.Sprintf("gave up after %d attempts: %s", attempts, out.err)
		} else {
			next = store.T(now.Add(Backoff[attempts-1]))
		}
	}
	// Only an open delivery takes the outcome: one that planning expired (failed,
	// its run finished) while the message was in flight stays as it is.
	res, err := tx.ExecContext(ctx, db.Rebind(`UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ?, claimed_by = NULL WHERE id = ? AND status IN ('pending', 'retry')`),
		status, next, out.err, now, out.id)
	if err != nil {
		return false, fail(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fail(err)
	}
	if out.bounce && out.subID != 0 {
		if _, err := tx.ExecContext(ctx, db.Rebind(`UPDATE subscribers SET status = 'bounced', updated_at = ? WHERE id = ? AND status = 'active'`), now, out.subID); err != nil {
			return false, fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fail(err)
	}
	return n > 0, nil
}
