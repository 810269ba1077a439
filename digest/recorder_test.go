package digest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

type recordedRow struct {
	ID        int64         `db:"id"`
	Status    string        `db:"status"`
	Attempts  int           `db:"attempts"`
	MessageID string        `db:"message_id"`
	SentAt    sql.NullTime  `db:"sent_at"`
	ClaimedBy sql.NullInt64 `db:"claimed_by"`
}

func plannedDeliveries(t *testing.T, db *store.DB, subs int) (digest.Run, []int64) {
	t.Helper()
	f := fixture{t, db}
	seed(f, subs)
	srv := smtptest.Start(t)
	now := T0
	r := newRunner(t, db, srv, &now)
	plan, err := r.Planner.Plan(context.Background(), digest.Weekly, now, false)
	if err != nil || plan.Planned != subs {
		t.Fatalf("plan = %+v, %v", plan, err)
	}
	var ids []int64
	if err := db.SelectContext(context.Background(), &ids, db.Rebind(`SELECT id FROM deliveries WHERE run_id = ? ORDER BY id`), plan.Run.ID); err != nil {
		t.Fatal(err)
	}
	return plan.Run, ids
}

func recordedRows(t *testing.T, db *store.DB, run digest.Run) []recordedRow {
	t.Helper()
	var rows []recordedRow
	if err := db.SelectContext(context.Background(), &rows, db.Rebind(`
		SELECT id, status, attempts, message_id, sent_at, claimed_by FROM deliveries WHERE run_id = ? ORDER BY id`), run.ID); err != nil {
		t.Fatal(err)
	}
	return rows
}

// Outcomes that wait together are written in one statement, on both
// databases, with what a per-message record wrote.
func TestRecorder_GroupIsOneStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		run, ids := plannedDeliveries(t, db, 6)
		at := T0.Add(90 * time.Second)
		stmts, errs := digest.RecordAccepted(context.Background(), db, run, "digest.example", at, ids)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("delivery %d: %v", ids[i], err)
			}
		}
		if stmts != 1 {
			t.Errorf("%d outcomes written in %d statements, want 1", len(ids), stmts)
		}
		for _, r := range recordedRows(t, db, run) {
			want := fmt.Sprintf("r%d.d%d@digest.example", run.ID, r.ID)
			if r.Status != digest.StatusSent || r.Attempts != 1 || r.MessageID != want || !r.SentAt.Valid || !r.SentAt.Time.Equal(at) || r.ClaimedBy.Valid {
				t.Errorf("delivery %d recorded as %+v; want sent, 1 attempt, Message-ID %s, sent at %s, not claimed", r.ID, r, want, at)
			}
		}
	})
}

// When the database refuses one delivery of a group, the others are still
// recorded and the error names the refused one.
func TestRecorder_FailureMidGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		run, ids := plannedDeliveries(t, db, 5)
		bad := ids[2]
		failSentRecords(t, db, fmt.Sprintf("NEW.id = %d", bad))
		stmts, errs := digest.RecordAccepted(context.Background(), db, run, "digest.example", T0, ids)
		for i, err := range errs {
			if ids[i] != bad {
				if err != nil {
					t.Errorf("delivery %d: %v, want recorded", ids[i], err)
				}
				continue
			}
			var re *digest.RecordError
			if !errors.As(err, &re) || !errors.Is(err, digest.ErrRecordOutcome) || re.DeliveryID != bad || re.RunID != run.ID || re.Status != digest.StatusSent {
				t.Errorf("refused delivery %d: error %v (%T), want a *RecordError naming it", bad, err, err)
			}
		}
		if stmts != 1+len(ids) {
			t.Errorf("%d statements, want %d: the group, then each on its own", stmts, 1+len(ids))
		}
		for _, r := range recordedRows(t, db, run) {
			want := digest.StatusSent
			if r.ID == bad {
				want = digest.StatusPending
			}
			if r.Status != want {
				t.Errorf("delivery %d is %s, want %s", r.ID, r.Status, want)
			}
		}
	})
}

// The crash bound, checked at every message: when the server receives the
// end of a message, the connection's previous accepted message is already
// recorded, so at most one accepted message per other connection is not.
// On PostgreSQL each record is slowed down (20 ms), so a sender that let
// the next message through before its record had committed would break
// the bound at once.
func TestSender_HoldsNextMessageUntilRecorded(t *testing.T) {
	const workers, subs = 3, 24
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, subs)
		srv := smtptest.Start(t)
		now := T0
		r := newRunner(t, db, srv, &now)
		r.Sender.Workers, r.Sender.Batch = workers, 4
		ctx := context.Background()
		plan, err := r.Planner.Plan(ctx, digest.Weekly, now, false)
		if err != nil || plan.Planned != subs {
			t.Fatalf("plan = %+v, %v", plan, err)
		}
		if db.Dialect == store.Postgres {
			for _, q := range []string{
				`CREATE FUNCTION slow_record() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN
					IF NEW.status = 'sent' AND OLD.status <> 'sent' THEN PERFORM pg_sleep(0.02); END IF;
					RETURN NEW;
				END $$`,
				`CREATE TRIGGER slow_record BEFORE UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION slow_record()`,
			} {
				f.exec(q)
			}
		}
		var mu sync.Mutex
		worst := 0
		srv.FailData("*", smtptest.Delay(0).OnHit(func(string) {
			accepted := srv.Count() // before this message; read first, so the gap is never overstated
			var sent int
			if err := db.GetContext(ctx, &sent, db.Rebind(`SELECT count(*) FROM deliveries WHERE run_id = ? AND status = 'sent'`), plan.Run.ID); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			worst = max(worst, accepted-sent)
			mu.Unlock()
		}))
		prog, err := r.Sender.Send(ctx, plan.Run)
		if err != nil || prog.Sent != subs {
			t.Fatalf("Send = %+v, %v; want %d sent", prog, err, subs)
		}
		t.Logf("at most %d accepted messages were unrecorded when a message ended (%d connections)", worst, workers)
		if worst > workers-1 {
			t.Errorf("%d accepted messages were not recorded when a message ended; want at most %d (one per other connection)", worst, workers-1)
		}
	})
}
