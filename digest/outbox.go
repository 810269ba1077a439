package digest

import (
	"context"
	"fmt"
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

// batch is a set of claimed deliveries. On PostgreSQL tx holds their row locks
// until the outcomes are recorded; on SQLite tx is nil (one sending process).
type batch struct {
	tx    *sqlx.Tx
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

const claimColumns = `d.id, d.subscriber_id, d.selection_id, d.attempts,
	COALESCE(s.email, '') AS email, COALESCE(s.name, '') AS name, COALESCE(s.status, '') AS sub_status`

// claim takes up to n due deliveries of the run with ids above after,
// skipping those in exclude (deliveries this process is still sending). On
// PostgreSQL the returned batch holds their row locks; other processes skip them.
//
// after lets a sender continue where its last claim ended: the open-deliveries
// index keeps an entry for every delivery sent since the last vacuum, and a
// claim that always started from the lowest id would walk all of them, a cost
// that grows with every message sent (at 100,000 deliveries a claim took
// 50–200 ms).
func (o *outbox) claim(ctx context.Context, n int, now time.Time, after int64, exclude []int64) (*batch, error) {
	db := o.db
	where := `d.run_id = ? AND d.id > ? AND d.status IN ('pending', 'retry') AND (d.status = 'pending' OR d.next_attempt_at <= ?)`
	args := []any{o.run.ID, after, store.T(now)}
	if len(exclude) > 0 {
		where += ` AND d.id NOT IN (?)`
		args = append(args, exclude)
	}
	q := `SELECT ` + claimColumns + ` FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
		WHERE ` + where + ` ORDER BY d.id LIMIT ?`
	args = append(args, n)
	if db.Dialect == store.Postgres {
		q += ` FOR UPDATE OF d SKIP LOCKED`
	}
	q, args, err := db.In(q, args...)
	if err != nil {
		return nil, err
	}
	b := &batch{}
	if db.Dialect == store.Postgres {
		// The transaction outlives ctx: the outcomes of messages already sent
		// must still be recorded in it after an interrupt (see worker), but
		// database/sql rolls back a transaction whose context ends, and lib/pq
		// marks a connection bad when the context of a query ends before its
		// rows are closed. So neither sees ctx; the claim is one short query.
		tctx := context.WithoutCancel(ctx)
		if b.tx, err = db.BeginTxx(tctx, nil); err != nil {
			return nil, err
		}
		err = b.tx.SelectContext(tctx, &b.items, q, args...)
	} else {
		err = db.SelectContext(ctx, &b.items, q, args...)
	}
	if err != nil {
		b.release()
		return nil, fmt.Errorf("claim deliveries of run %d: %w", o.run.ID, err)
	}
	if len(b.items) == 0 {
		b.release()
		return nil, nil
	}
	return b, nil
}

// release gives up a batch's locks without recording anything.
func (b *batch) release() {
	if b != nil && b.tx != nil {
		b.tx.Rollback()
		b.tx = nil
	}
}

// messageID is the Message-ID (without brackets) of a delivery: derived from run
// and delivery, so a message sent twice in the crash window is recognisable.
func (o *outbox) messageID(deliveryID int64) string {
	return fmt.Sprintf("r%d.d%d@%s", o.run.ID, deliveryID, o.domain)
}

// record writes the outcomes of a batch with set-based statements in one
// transaction (the claim's, on PostgreSQL) and commits it.
func (o *outbox) record(ctx context.Context, b *batch, outs []outcome, now time.Time) error {
	db := o.db
	tx := b.tx
	b.tx = nil
	if tx == nil {
		var err error
		if tx, err = db.BeginTxx(ctx, nil); err != nil {
			return err
		}
	}
	defer tx.Rollback()
	now = store.T(now)
	exec := func(q string, args ...any) error {
		q, args, err := db.In(q, args...)
		if err == nil {
			_, err = tx.ExecContext(ctx, q, args...)
		}
		if err != nil {
			return fmt.Errorf("record outcomes of run %d: %w", o.run.ID, err)
		}
		return nil
	}
	var sent, skipped, bounced []int64
	for _, out := range outs {
		switch out.status {
		case StatusSent:
			sent = append(sent, out.id)
		case StatusSkipped:
			skipped = append(skipped, out.id)
		default:
			attempts := 1
			for _, it := range b.items {
				if it.ID == out.id {
					attempts = it.Attempts + 1
				}
			}
			status, next := out.status, any(nil)
			if status == StatusRetry {
				if attempts >= MaxAttempts {
					status, out.err = StatusFailed, fmt.Sprintf("gave up after %d attempts: %s", attempts, out.err)
				} else {
					next = store.T(now.Add(Backoff[attempts-1]))
				}
			}
			if err := exec(`UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?`,
				status, next, out.err, now, out.id); err != nil {
				return err
			}
			if out.bounce && out.subID != 0 {
				bounced = append(bounced, out.subID)
			}
		}
	}
	if len(sent) > 0 {
		prefix, suffix := fmt.Sprintf("r%d.d", o.run.ID), "@"+o.domain
		if err := exec(`UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, updated_at = ?,
			next_attempt_at = NULL, last_error = '', message_id = ? || CAST(id AS TEXT) || ? WHERE id IN (?)`,
			now, now, prefix, suffix, sent); err != nil {
			return err
		}
	}
	if len(skipped) > 0 {
		if err := exec(`UPDATE deliveries SET status = 'skipped', last_error = 'subscriber left after planning', updated_at = ? WHERE id IN (?)`,
			now, skipped); err != nil {
			return err
		}
	}
	if len(bounced) > 0 {
		if err := exec(`UPDATE subscribers SET status = 'bounced', updated_at = ? WHERE id IN (?) AND status = 'active'`, now, bounced); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record outcomes of run %d: %w", o.run.ID, err)
	}
	return nil
}
