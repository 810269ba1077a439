package digest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// openRunIDs is what the daemon's retry job would look at.
func openRunIDs(t *testing.T, db *store.DB) []int64 {
	t.Helper()
	rs, err := digest.OpenRuns(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestRunner_ReplannedFinishedRunIsOpen: an edition that was sent and
// finished is planned again after someone subscribed (the daemon resumes the
// edition of the week). The new delivery makes the run unfinished again, so
// the retry job finds it, sends it and finishes the run once more.
func TestRunner_ReplannedFinishedRunIsOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("Bund: OZG", day(-1), day(-1), "DE")
		f.subscriber("first@example.org")
		srv := smtptest.Start(t)
		now := T0
		r := newRunner(t, db, srv, &now)
		rep, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil || rep.Send.Sent != 1 {
			t.Fatalf("run = %+v, %v", rep.Send, err)
		}
		if st, _ := digest.GetRun(ctx, db, rep.Plan.Run.ID); !st.FinishedAt.Valid {
			t.Fatalf("run after sending = %+v; want finished", st)
		}
		if ids := openRunIDs(t, db); len(ids) != 0 {
			t.Fatalf("OpenRuns of a finished run = %v", ids)
		}

		now = T0.Add(time.Hour)
		f.subscriber("later@example.org")
		again, err := r.Planner.Plan(ctx, digest.Weekly, now, false)
		if err != nil || !again.Resumed || again.Planned != 1 {
			t.Fatalf("plan again = %+v, %v; want the run resumed with 1 new delivery", again, err)
		}
		st, _ := digest.GetRun(ctx, db, rep.Plan.Run.ID)
		if st.FinishedAt.Valid || st.Pending != 1 || st.Sent != 1 {
			t.Fatalf("run planned again = %+v; want unfinished with 1 pending, 1 sent", st)
		}
		if ids := openRunIDs(t, db); len(ids) != 1 || ids[0] != rep.Plan.Run.ID {
			t.Fatalf("OpenRuns after planning again = %v; want [%d]", ids, rep.Plan.Run.ID)
		}

		if err := r.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		got := received(srv)
		if len(got["first@example.org"]) != 1 || len(got["later@example.org"]) != 1 {
			t.Fatalf("messages: first %d, later %d; want 1 each", len(got["first@example.org"]), len(got["later@example.org"]))
		}
		if st, _ := digest.GetRun(ctx, db, rep.Plan.Run.ID); !st.FinishedAt.Valid || st.Sent != 2 || st.Pending != 0 {
			t.Fatalf("run after resume = %+v; want finished with 2 sent", st)
		}
		if ids := openRunIDs(t, db); len(ids) != 0 {
			t.Fatalf("OpenRuns after resume = %v", ids)
		}

		// Planning again with nobody new leaves it finished.
		if again, err := r.Planner.Plan(ctx, digest.Weekly, now, false); err != nil || again.Planned != 0 {
			t.Fatalf("plan with nobody new = %+v, %v", again, err)
		}
		if st, _ := digest.GetRun(ctx, db, rep.Plan.Run.ID); !st.FinishedAt.Valid {
			t.Fatalf("run planned again with nobody new = %+v; want still finished", st)
		}
	})
}

// TestRunner_InterruptedRunIsOpen: a send stopped half-way (a crash or a
// shutdown) leaves the run unfinished, and the retry job at the next start
// finds it and sends the rest.
func TestRunner_InterruptedRunIsOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		f.article("Bund: OZG", day(-1), day(-1), "DE")
		emails := []string{"s0@example.org", "s1@example.org", "s2@example.org", "s3@example.org"}
		for _, e := range emails {
			f.subscriber(e)
		}
		srv := smtptest.Start(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv.FailRcpt(emails[2], smtptest.Block(ctx.Done()).OnHit(func(string) { cancel() }).Times(1))
		now := T0
		r := newRunner(t, db, srv, &now)
		r.Sender.Workers, r.Sender.Batch = 1, 16
		plan, err := r.Planner.Plan(context.Background(), digest.Weekly, now, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Sender.Send(ctx, plan.Run); err == nil {
			t.Fatal("send was not interrupted")
		}
		if ids := openRunIDs(t, db); len(ids) != 1 || ids[0] != plan.Run.ID {
			t.Fatalf("OpenRuns after the interrupt = %v; want [%d]", ids, plan.Run.ID)
		}
		if err := r.Resume(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := received(srv)
		for _, e := range emails {
			if len(got[e]) != 1 {
				t.Errorf("%s got %d messages, want 1", e, len(got[e]))
			}
		}
		if ids := openRunIDs(t, db); len(ids) != 0 {
			t.Fatalf("OpenRuns after resume = %v", ids)
		}
	})
}

// TestPlanner_ExpiryFinishesOlderRun: a run left with a retry when the next
// edition is planned has its retry expired and is finished, so that it is
// not looked through for open deliveries again; the new edition is open.
func TestPlanner_ExpiryFinishesOlderRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("Bund: OZG", day(-1), day(-1), "DE")
		f.subscriber("a@example.org")
		srv := smtptest.Start(t)
		srv.FailRcpt("a@example.org", smtptest.Temporary(1))
		now := T0
		r := newRunner(t, db, srv, &now)
		week1, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil || week1.Send.Retry != 1 {
			t.Fatalf("week 1 = %+v, %v; want 1 retry", week1.Send, err)
		}
		if ids := openRunIDs(t, db); len(ids) != 1 || ids[0] != week1.Plan.Run.ID {
			t.Fatalf("OpenRuns with a retry = %v; want [%d]", ids, week1.Plan.Run.ID)
		}
		now = day(7)
		week2, err := r.Planner.Plan(ctx, digest.Weekly, now, false)
		if err != nil || week2.Expired != 1 {
			t.Fatalf("week 2 = %+v, %v; want 1 expired", week2, err)
		}
		st, _ := digest.GetRun(ctx, db, week1.Plan.Run.ID)
		if !st.FinishedAt.Valid || st.Retry != 0 || st.Failed != 1 {
			t.Fatalf("week 1 after expiry = %+v; want finished, 1 failed", st)
		}
		if ids := openRunIDs(t, db); len(ids) != 1 || ids[0] != week2.Run.ID {
			t.Fatalf("OpenRuns after week 2 was planned = %v; want [%d]", ids, week2.Run.ID)
		}
	})
}

// TestSender_OutcomeOfExpiredDeliveryInFlight: the next edition is planned
// while the relay is still answering the old edition's message. Planning
// expires that delivery and finishes the old run; the relay's answer (a 451
// or a 550) that arrives afterwards changes neither: the delivery stays
// failed as expired, not an open retry in a finished run that nothing would
// ever send, and `digest runs show` reports it so. The new edition carries
// the article.
func TestSender_OutcomeOfExpiredDeliveryInFlight(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault smtptest.Fault
	}{
		{"retry", smtptest.Reject(451, "4.7.1", "try again later")},
		{"failure", smtptest.Reject(550, "5.7.1", "rejected")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := fixture{t, db}
				ctx := context.Background()
				f.article("Bund: OZG", day(-1), day(-1), "DE")
				f.subscriber("a@example.org")
				srv := smtptest.Start(t)
				now := T0
				r := newRunner(t, db, srv, &now)
				var week2 digest.PlanResult
				var planErr error
				srv.FailRcpt("a@example.org", tc.fault.OnHit(func(string) {
					// The next edition is planned before the relay answers.
					week2, planErr = r.Planner.Plan(ctx, digest.Weekly, day(7), false)
				}).Times(1))
				week1, err := r.Run(ctx, digest.Weekly, T0, false)
				if err != nil {
					t.Fatal(err)
				}
				if planErr != nil || week2.Expired != 1 {
					t.Fatalf("week 2 planned while in flight = %+v, %v; want 1 expired", week2, planErr)
				}
				if p := week1.Send; p.Retry != 0 || p.Failed != 0 || p.Sent != 0 {
					t.Errorf("week 1 run reports %+v; want nothing counted for the expired delivery (the run's figures say 0 retry, 1 failed by expiry)", p)
				}
				d := f.delivery(week1.Plan.Run.ID, "a@example.org")
				if d.Status != "failed" || d.Attempts != 0 || d.Next.Valid || !strings.HasPrefix(d.LastError, "expired: superseded by edition") {
					t.Errorf("week 1 delivery after the relay's answer = %+v; want failed as expired, no attempt counted, no retry time", d)
				}
				st, err := digest.GetRun(ctx, db, week1.Plan.Run.ID)
				if err != nil || !st.FinishedAt.Valid || st.Retry != 0 || st.Failed != 1 || st.Pending != 0 {
					t.Errorf("week 1 = %+v, %v; want finished with 1 failed, no retry", st, err)
				}
				if next, err := digest.NextRetry(ctx, db, week1.Plan.Run.ID); err != nil || !next.IsZero() {
					t.Errorf("week 1 next retry = %v, %v; want none", next, err)
				}
				if ids := openRunIDs(t, db); len(ids) != 1 || ids[0] != week2.Run.ID {
					t.Errorf("OpenRuns = %v; want only week 2 [%d]", ids, week2.Run.ID)
				}
				if err := r.Resume(ctx); err != nil {
					t.Fatal(err)
				}
				if got := received(srv); len(got["a@example.org"]) != 1 {
					t.Errorf("a@example.org got %d messages, want 1 (week 2's)", len(got["a@example.org"]))
				}
				if _, status := f.digestOf(week2.Run.ID, "a@example.org"); status != "sent" {
					t.Errorf("week 2 delivery is %s, want sent", status)
				}
				if d := f.delivery(week1.Plan.Run.ID, "a@example.org"); d.Status != "failed" {
					t.Errorf("week 1 delivery after the retry job = %+v; want failed", d)
				}
			})
		})
	}
}
