package digest

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
)

// The recorder writes the accepted ("sent") outcomes of all workers of one
// Send in groups: each worker hands it the delivery the server has just
// accepted and goes on with its next message; the recorder writes every
// outcome waiting at that moment in one statement and tells each worker
// when its outcome is committed. A worker holds its next message before the
// final "." of DATA until then (mailer.Message.Hold), so a connection never
// has more than one accepted message that is not recorded: the crash window
// stays one message per connection while the record overlaps the next
// message's rendering and transfer. Failures and skips stay on the worker's
// own path (outbox.record): they are rare, and a failure may bounce the
// subscriber in the same transaction.
//
// BENCHMARKS.md "Issue 12: group-committed records" has the figures.
type recorder struct {
	ob   *outbox
	q    dbConn
	conn *sqlx.Conn // PostgreSQL: the recorder's own connection
	// sentStmt is the record prepared on conn (PostgreSQL), the ids as one
	// array: one round trip per group, planned once.
	sentStmt *sqlx.Stmt
	now      func() time.Time
	in       chan *accepted
	done     chan struct{}
	stmts    int // statements written (for tests and the log)
}

// accepted is one delivery the server accepted, waiting to be recorded.
type accepted struct {
	id        int64
	committed chan struct{} // closed when err is set
	err       error         // a *RecordError, or nil when the record is committed
}

// wait blocks until the outcome is recorded and returns the record's error.
func (a *accepted) wait() error {
	<-a.committed
	return a.err
}

// startRecorder opens the recorder's database handle and starts it. It
// serves up to workers outcomes at a time; close ends it.
func (o *outbox) startRecorder(ctx context.Context, workers int, now func() time.Time) (*recorder, error) {
	r, err := o.newRecorder(ctx, workers, now)
	if err == nil {
		go r.loop()
	}
	return r, err
}

func (o *outbox) newRecorder(ctx context.Context, workers int, now func() time.Time) (*recorder, error) {
	r := &recorder{ob: o, q: o.db, now: now, in: make(chan *accepted, workers), done: make(chan struct{})}
	if o.db.Dialect == store.Postgres {
		c, err := o.db.Connx(ctx)
		if err != nil {
			return nil, fmt.Errorf("recorder connection: %w", err)
		}
		// As the workers' connections: a crash of this process loses
		// nothing committed (see workerConn).
		if _, err := c.ExecContext(ctx, `SET synchronous_commit = off`); err != nil {
			c.Close()
			return nil, fmt.Errorf("recorder connection: %w", err)
		}
		st, err := c.PreparexContext(ctx, o.db.Rebind(sentQuery+` = ANY(?)`))
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("recorder connection: prepare the record: %w", err)
		}
		r.q, r.conn, r.sentStmt = c, c, st
	}
	return r, nil
}

// submit hands over one accepted delivery; wait on the result before the
// connection lets the server accept another message.
func (r *recorder) submit(id int64) *accepted {
	a := &accepted{id: id, committed: make(chan struct{})}
	r.in <- a
	return a
}

// close waits for the outcomes handed over so far to be written and ends
// the recorder. No submit may follow.
func (r *recorder) close() {
	close(r.in)
	<-r.done
	if r.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.sentStmt.Close()
		if _, err := r.conn.ExecContext(ctx, `RESET synchronous_commit`); err != nil {
			// Never hand a connection in an unknown state back to the pool.
			_ = r.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		r.conn.Close()
	}
}

func (r *recorder) loop() {
	defer close(r.done)
	group := make([]*accepted, 0, cap(r.in))
	for a := range r.in {
		group = append(group[:0], a)
	more:
		for len(group) < cap(group) {
			select {
			case b, ok := <-r.in:
				if !ok {
					break more
				}
				group = append(group, b)
			default:
				break more
			}
		}
		r.write(group)
	}
}

// write records group as sent in one statement. When that fails, each is
// tried on its own, so one delivery the database refuses does not take the
// others' records with it and the error names that delivery.
func (r *recorder) write(group []*accepted) {
	// Record even when the run's context has ended: what was sent must be
	// written down.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids := make([]int64, len(group))
	for i, a := range group {
		ids[i] = a.id
	}
	err := r.sent(ctx, ids)
	if err != nil && len(group) > 1 {
		for _, a := range group {
			a.err = r.sent(ctx, []int64{a.id})
			close(a.committed)
		}
		return
	}
	for _, a := range group {
		a.err = err
		close(a.committed)
	}
}

// sentQuery records deliveries as sent; the ids' condition follows "id".
// The Message-ID is the one outbox.messageID gives (r<run>.d<delivery>@<domain>).
const sentQuery = `UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, updated_at = ?,
		next_attempt_at = NULL, last_error = '', claimed_by = NULL,
		message_id = 'r' || CAST(run_id AS TEXT) || '.d' || CAST(id AS TEXT) || '@' || ?
		WHERE id`

// sent marks the deliveries ids sent in one statement.
func (r *recorder) sent(ctx context.Context, ids []int64) error {
	db := r.ob.db
	now := store.T(r.now())
	r.stmts++
	var err error
	if r.sentStmt != nil {
		_, err = r.sentStmt.ExecContext(ctx, now, now, r.ob.domain, store.Int64Array(ids))
	} else {
		var q string
		var args []any
		q, args, err = db.In(sentQuery+` IN (?)`, now, now, r.ob.domain, ids)
		if err == nil {
			_, err = r.q.ExecContext(ctx, q, args...)
		}
	}
	if err != nil {
		return &RecordError{RunID: r.ob.run.ID, DeliveryID: ids[0], Status: StatusSent, Err: err}
	}
	return nil
}
