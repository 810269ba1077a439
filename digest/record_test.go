package digest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// failSentRecords makes the database refuse to record "sent" the way a full
// disk would: cond is a SQL condition on NEW (the delivery being updated)
// and budget (how many sent outcomes were recorded since the trigger was
// installed). It returns a function that removes the fault.
func failSentRecords(t *testing.T, db *store.DB, cond string) (heal func()) {
	t.Helper()
	ctx := context.Background()
	var stmts, undo []string
	if db.Dialect == store.Postgres {
		stmts = []string{
			`CREATE TABLE record_budget (n int NOT NULL)`,
			`INSERT INTO record_budget VALUES (0)`,
			`CREATE FUNCTION record_fails() RETURNS trigger LANGUAGE plpgsql AS $$
			DECLARE budget int;
			BEGIN
				IF NEW.status = 'sent' AND OLD.status <> 'sent' THEN
					SELECT n INTO budget FROM record_budget FOR UPDATE;
					IF ` + cond + ` THEN
						RAISE EXCEPTION 'could not extend file "base/16384/16390": No space left on device';
					END IF;
					UPDATE record_budget SET n = n + 1;
				END IF;
				RETURN NEW;
			END $$`,
			`CREATE TRIGGER record_fails BEFORE UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION record_fails()`,
		}
		undo = []string{`DROP TRIGGER record_fails ON deliveries`}
	} else {
		cond = strings.ReplaceAll(cond, "budget", "(SELECT n FROM record_budget)")
		stmts = []string{
			`CREATE TABLE record_budget (n INTEGER NOT NULL)`,
			`INSERT INTO record_budget VALUES (0)`,
			`CREATE TRIGGER record_fails BEFORE UPDATE OF status ON deliveries
			WHEN NEW.status = 'sent' AND OLD.status <> 'sent'
			BEGIN
				SELECT RAISE(ABORT, 'database or disk is full') WHERE ` + cond + `;
				UPDATE record_budget SET n = n + 1;
			END`,
		}
		undo = []string{`DROP TRIGGER record_fails`}
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return func() {
		for _, q := range undo {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
}

func checkRecordError(t *testing.T, err error) *digest.RecordError {
	t.Helper()
	var re *digest.RecordError
	if !errors.As(err, &re) || !errors.Is(err, digest.ErrRecordOutcome) {
		t.Fatalf("Send error = %v (%T), want a *digest.RecordError", err, err)
	}
	msg := err.Error()
	want := fmt.Sprintf("storage: could not record that delivery %d was accepted: ", re.DeliveryID)
	if !strings.HasPrefix(msg, want) || !strings.HasSuffix(msg, "; stopped sending; the next run re-sends at most the messages in flight") ||
		strings.Contains(msg, "network") || strings.Count(msg, "\n") != 0 {
		t.Fatalf("error = %q, want one line starting %q and never network", msg, want)
	}
	return re
}

// A disk that is full from the K+1st recorded outcome on: no message is
// handed to the relay after the first outcome that could not be recorded,
// so the server gets at most K + workers, and the next run re-sends at most
// the ones that were in flight.
func TestSender_RecordFailureStopsAllWorkers(t *testing.T) {
	const k, workers, subs = 5, 4, 40
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, subs)
		srv := smtptest.Start(t)
		now := T0
		r := newRunner(t, db, srv, &now)
		r.Sender.Workers, r.Sender.Batch = workers, 2
		ctx := context.Background()
		plan, err := r.Planner.Plan(ctx, digest.Weekly, now, false)
		if err != nil || plan.Planned != subs {
			t.Fatalf("plan = %+v, %v", plan, err)
		}
		heal := failSentRecords(t, db, fmt.Sprintf("budget >= %d", k))
		prog, err := r.Sender.Send(ctx, plan.Run)
		checkRecordError(t, err)
		got := srv.Count()
		t.Logf("server received %d messages, %d recorded sent (K=%d, workers=%d)", got, prog.Sent, k, workers)
		if got > k+workers || got <= k {
			t.Fatalf("server received %d messages, want more than %d and at most %d (K + workers)", got, k, k+workers)
		}
		if prog.Sent != k {
			t.Errorf("progress counts %d sent, want %d", prog.Sent, k)
		}
		stats, err := digest.GetRun(ctx, db, plan.Run.ID)
		if err != nil || stats.Sent != k || stats.Pending != subs-k || stats.FinishedAt.Valid {
			t.Fatalf("run after the failure = %+v, %v; want %d sent, %d pending, not finished", stats, err, k, subs-k)
		}

		heal()
		if _, err := r.Sender.Send(ctx, plan.Run); err != nil {
			t.Fatal(err)
		}
		twice := 0
		all := received(srv)
		for _, msgs := range all {
			if len(msgs) > 1 {
				twice += len(msgs) - 1
			}
		}
		if len(all) != subs || twice > got-k {
			t.Fatalf("after the next run %d of %d recipients got mail, %d twice; want all, at most %d twice (the messages in flight)",
				len(all), subs, twice, got-k)
		}
	})
}

// A single outcome that cannot be recorded (a short storage outage) also
// stops the other workers: before, they went on handing every remaining
// message to the relay.
func TestSender_OneRecordFailureStopsSending(t *testing.T) {
	const workers, subs = 3, 40
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, subs)
		srv := smtptest.Start(t)
		now := T0
		r := newRunner(t, db, srv, &now)
		r.Sender.Workers, r.Sender.Batch = workers, 1
		ctx := context.Background()
		plan, err := r.Planner.Plan(ctx, digest.Weekly, now, false)
		if err != nil || plan.Planned != subs {
			t.Fatalf("plan = %+v, %v", plan, err)
		}
		// The sixth delivery in claim order.
		bad := f.id(`SELECT id FROM deliveries WHERE run_id = ? ORDER BY id LIMIT 1 OFFSET 5`, plan.Run.ID)
		failSentRecords(t, db, fmt.Sprintf("NEW.id = %d", bad))
		// The first six deliveries go through at once; every later one takes
		// the relay 300 ms. So the pace is the relay's, not the scheduler's:
		// on a loaded machine the failing record still lands while each other
		// worker has at most one message in flight, and a sender that did not
		// stop would deliver all the others (the bound below then fails).
		srv.FailData("*", smtptest.Delay(300*time.Millisecond))
		var first []string
		if err := db.SelectContext(ctx, &first, db.Rebind(`
			SELECT s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
			WHERE d.run_id = ? ORDER BY d.id LIMIT 6`), plan.Run.ID); err != nil {
			t.Fatal(err)
		}
		for _, addr := range first {
			srv.FailData(addr, smtptest.Delay(0))
		}
		_, err = r.Sender.Send(ctx, plan.Run)
		if re := checkRecordError(t, err); re.DeliveryID != bad || re.RunID != plan.Run.ID {
			t.Fatalf("error names delivery %d of run %d, want %d of run %d", re.DeliveryID, re.RunID, bad, plan.Run.ID)
		}
		// Claims are one at a time in id order: before the sixth failed, each
		// other worker may have had one in flight and one more accepted.
		got := srv.Count()
		t.Logf("server received %d of %d messages", got, subs)
		if got > 6+2*(workers-1) {
			t.Fatalf("server received %d messages, want at most %d: sending went on after the outcome could not be recorded", got, 6+2*(workers-1))
		}
	})
}
