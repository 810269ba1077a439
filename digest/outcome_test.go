package digest_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// deliveryState is a subscriber's delivery in a run as the outbox records it.
type deliveryState struct {
	Status    string       `db:"status"`
	Attempts  int          `db:"attempts"`
	Next      sql.NullTime `db:"next_attempt_at"`
	LastError string       `db:"last_error"`
	SubStatus string       `db:"sub_status"`
}

func (f fixture) delivery(runID int64, email string) deliveryState {
	f.t.Helper()
	var d deliveryState
	if err := f.db.GetContext(context.Background(), &d, f.db.Rebind(`
		SELECT d.status, d.attempts, d.next_attempt_at, d.last_error, s.status AS sub_status
		FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.run_id = ? AND s.email = ?`), runID, email); err != nil {
		f.t.Fatalf("delivery of %s: %v", email, err)
	}
	return d
}

// TestSender_RetrySchedule: a relay that answers 451 to every attempt. Each
// attempt is due exactly at next_attempt_at (not a second before), which is
// the attempt's time plus the README's delay; the 8th attempt fails for good.
func TestSender_RetrySchedule(t *testing.T) {
	delays := []time.Duration{5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("Bund: OZG", day(-1), day(-1), "DE")
		f.subscriber("retry@example.org")
		f.subscriber("ok@example.org")
		srv := smtptest.Start(t)
		srv.FailRcpt("retry@example.org", smtptest.Temporary(1000))
		now := T0
		r := newRunner(t, db, srv, &now)
		rep, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil || rep.Send.Sent != 1 || rep.Send.Retry != 1 {
			t.Fatalf("first run = %+v, %v; want 1 sent, 1 retry", rep.Send, err)
		}
		run := rep.Plan.Run
		for attempt := 1; attempt <= len(delays); attempt++ {
			d := f.delivery(run.ID, "retry@example.org")
			want := store.T(now.Add(delays[attempt-1]))
			if d.Status != "retry" || d.Attempts != attempt || !d.Next.Valid || !d.Next.Time.Equal(want) || !strings.Contains(d.LastError, "451") {
				t.Fatalf("after attempt %d: %+v; want retry, attempts %d, next attempt at %s (now + %s)", attempt, d, attempt, want, delays[attempt-1])
			}
			if next, err := digest.NextRetry(ctx, db, run.ID); err != nil || !next.Equal(want) {
				t.Fatalf("NextRetry after attempt %d = %s, %v; want %s", attempt, next, err, want)
			}
			now = want.Add(-time.Second)
			if p, err := r.Sender.Send(ctx, run); err != nil || p.Done() != 0 {
				t.Fatalf("a second before attempt %d was due: %+v, %v; want nothing sent", attempt+1, p, err)
			}
			now = want
			p, err := r.Sender.Send(ctx, run)
			wantRetry := int64(1)
			if attempt == len(delays) {
				wantRetry = 0
			}
			if err != nil || p.Retry != wantRetry || p.Done() != 1 {
				t.Fatalf("attempt %d at its time: %+v, %v", attempt+1, p, err)
			}
		}
		d := f.delivery(run.ID, "retry@example.org")
		if d.Status != "failed" || d.Attempts != 8 || d.Next.Valid || !strings.Contains(d.LastError, "gave up after 8 attempts") || d.SubStatus != "active" {
			t.Fatalf("after 8 attempts: %+v; want failed, attempts 8, no next attempt, subscriber still active", d)
		}
		now = now.Add(24 * time.Hour)
		if p, err := r.Sender.Send(ctx, run); err != nil || p.Done() != 0 {
			t.Fatalf("after giving up: %+v, %v", p, err)
		}
		stats, err := digest.GetRun(ctx, db, run.ID)
		if err != nil || stats.Sent != 1 || stats.Failed != 1 || stats.Retry != 0 || !stats.FinishedAt.Valid {
			t.Fatalf("run = %+v, %v", stats, err)
		}
		if got := len(received(srv)["retry@example.org"]); got != 0 {
			t.Fatalf("retry@ got %d messages", got)
		}
	})
}

// TestSender_BounceCodes: every answer a relay may give, through the sender,
// with the delivery's and the subscriber's status after.
func TestSender_BounceCodes(t *testing.T) {
	type tc struct {
		email    string
		fault    smtptest.Fault
		data     bool   // at the end of DATA instead of RCPT
		delivery string // status after
		sub      string // subscriber status after
	}
	cases := []tc{
		{"unknown-5.1.1@example.org", smtptest.Reject(550, "5.1.1", "user unknown"), false, "failed", "bounced"},
		{"unknown-data-5.1.1@example.org", smtptest.Reject(550, "5.1.1", "user unknown"), true, "failed", "bounced"},
		{"moved-5.1.10@example.org", smtptest.Reject(550, "5.1.10", "recipient address has null MX"), false, "failed", "bounced"},
		{"nohost-5.4.1@example.org", smtptest.Reject(550, "5.4.1", "no answer from host"), false, "failed", "bounced"},
		{"loop-5.4.4@example.org", smtptest.Reject(554, "5.4.4", "unable to route"), false, "failed", "bounced"},
		// Near misses: permanent, but the mailbox is not gone.
		{"policy-5.7.1@example.org", smtptest.Reject(554, "5.7.1", "rejected by policy"), false, "failed", "active"},
		{"full-5.2.2@example.org", smtptest.Reject(552, "5.2.2", "mailbox full"), false, "failed", "active"},
		{"syntax-5.1.3@example.org", smtptest.Reject(553, "5.1.3", "bad address syntax"), false, "failed", "active"},
		{"five-5.1.2@example.org", smtptest.Reject(550, "5.1.2", "bad destination system"), false, "failed", "active"},
		// Temporary answers, even with the mailbox-gone subject and detail.
		{"temp-4.1.1@example.org", smtptest.Reject(450, "4.1.1", "mailbox unknown (for now)"), false, "retry", "active"},
		{"temp-4.4.4@example.org", smtptest.Reject(451, "4.4.4", "unable to route"), false, "retry", "active"},
		{"temp-4.2.2@example.org", smtptest.Reject(452, "4.2.2", "mailbox full"), false, "retry", "active"},
		{"temp-data-4.7.1@example.org", smtptest.Reject(451, "4.7.1", "greylisted"), true, "retry", "active"},
		{"fine@example.org", smtptest.Fault{}, false, "sent", "active"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("Bund: OZG", day(-1), day(-1), "DE")
		srv := smtptest.Start(t)
		for _, c := range cases {
			f.subscriber(c.email)
			if c.delivery == "sent" {
				continue
			}
			if c.data {
				srv.FailData(c.email, c.fault)
			} else {
				srv.FailRcpt(c.email, c.fault)
			}
		}
		now := T0
		r := newRunner(t, db, srv, &now)
		rep, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			d := f.delivery(rep.Plan.Run.ID, c.email)
			if d.Status != c.delivery || d.SubStatus != c.sub {
				t.Errorf("%s: delivery %s, subscriber %s (%q); want %s, %s", c.email, d.Status, d.SubStatus, d.LastError, c.delivery, c.sub)
			}
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("%d messages accepted, want 1", n)
		}
	})
}

// TestSender_BounceLeavesOtherStatusesAlone: a subscriber who unsubscribes
// (or was already marked bounced by a DSN) while their message is in flight
// keeps that status when the relay then answers 5.1.1.
func TestSender_BounceLeavesOtherStatusesAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("Bund: OZG", day(-1), day(-1), "DE")
		srv := smtptest.Start(t)
		changes := map[string]string{"leaves@example.org": "unsubscribed", "pending@example.org": "pending", "active@example.org": ""}
		for email, to := range changes {
			f.subscriber(email)
			srv.FailRcpt(email, smtptest.Permanent("5.1.1").OnHit(func(string) {
				if to != "" {
					f.exec(`UPDATE subscribers SET status = ? WHERE email = ?`, to, email)
				}
			}))
		}
		now := T0
		r := newRunner(t, db, srv, &now)
		rep, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil || rep.Send.Failed != 3 {
			t.Fatalf("run = %+v, %v; want 3 failed", rep.Send, err)
		}
		for email, to := range changes {
			want := cmpOr(to, "bounced")
			if d := f.delivery(rep.Plan.Run.ID, email); d.Status != "failed" || d.SubStatus != want {
				t.Errorf("%s: delivery %s, subscriber %s; want failed, %s", email, d.Status, d.SubStatus, want)
			}
		}
	})
}

// TestSender_InterruptedMidSend: the relay hangs on the third message until
// the send is cancelled (a shutdown). The two before it are sent and
// recorded, the one in flight and the rest stay pending with no attempt
// counted, and the next send delivers each of them once.
func TestSender_InterruptedMidSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		f.article("Bund: OZG", day(-1), day(-1), "DE")
		var emails []string
		for i := range 5 {
			emails = append(emails, fmt.Sprintf("s%d@example.org", i))
			f.subscriber(emails[i])
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
		p, err := r.Sender.Send(ctx, plan.Run)
		if err == nil || ctx.Err() == nil {
			t.Fatalf("send = %+v, %v; want it interrupted", p, err)
		}
		if p.Sent != 2 || p.Retry != 0 || p.Failed != 0 {
			t.Fatalf("interrupted send = %+v; want 2 sent, nothing else counted", p)
		}
		for i, email := range emails {
			d := f.delivery(plan.Run.ID, email)
			want := deliveryState{Status: "pending", SubStatus: "active"}
			if i < 2 {
				want = deliveryState{Status: "sent", Attempts: 1, SubStatus: "active"}
			}
			if d != want {
				t.Errorf("%s after the interrupt: %+v, want %+v", email, d, want)
			}
		}
		stats, _ := digest.GetRun(context.Background(), db, plan.Run.ID)
		if stats.FinishedAt.Valid {
			t.Error("an interrupted run is marked finished")
		}
		p, err = r.Sender.Send(context.Background(), plan.Run)
		if err != nil || p.Sent != 3 || p.Done() != 3 {
			t.Fatalf("next send = %+v, %v; want the other 3 sent", p, err)
		}
		got := received(srv)
		for _, email := range emails {
			if n := len(got[email]); n != 1 {
				t.Errorf("%s got %d messages, want 1", email, n)
			}
		}
	})
}

// TestRunner_Resume: the daemon's retry job sends what is due in every open
// run, whatever its cadence, and nothing that is not due yet.
func TestRunner_Resume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("Bund: OZG", day(-1), day(-1), "DE")
		f.subscriber("weekly@example.org")
		f.subscriber("daily@example.org")
		f.exec(`UPDATE subscribers SET cadence = 'daily' WHERE email = 'daily@example.org'`)
		srv := smtptest.Start(t)
		for _, e := range []string{"weekly@example.org", "daily@example.org"} {
			srv.FailRcpt(e, smtptest.Temporary(1))
		}
		now := T0
		r := newRunner(t, db, srv, &now)
		weekly, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil || weekly.Send.Retry != 1 {
			t.Fatalf("weekly = %+v, %v", weekly.Send, err)
		}
		// A subscriber joins; the edition is resumed 2 minutes later and fails for them too.
		now = T0.Add(2 * time.Minute)
		f.subscriber("weekly-later@example.org")
		srv.FailRcpt("weekly-later@example.org", smtptest.Temporary(1))
		if again, err := r.Run(ctx, digest.Weekly, now, false); err != nil || !again.Plan.Resumed || again.Send.Retry != 1 {
			t.Fatalf("resumed weekly = %+v, %v", again, err)
		}
		daily, err := r.Run(ctx, digest.Daily, now, false)
		if err != nil || daily.Send.Retry != 1 {
			t.Fatalf("daily = %+v, %v", daily.Send, err)
		}
		open, err := digest.OpenRuns(ctx, db)
		if err != nil || len(open) != 2 || open[0].ID != weekly.Plan.Run.ID || open[1].ID != daily.Plan.Run.ID {
			t.Fatalf("OpenRuns = %+v, %v; want the weekly and the daily run", open, err)
		}
		// 5 minutes after the first attempt: weekly@ is due, weekly-later@ and daily@ (2 minutes later) are not.
		now = T0.Add(5 * time.Minute)
		if err := r.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		got := received(srv)
		if len(got["weekly@example.org"]) != 1 || len(got["weekly-later@example.org"]) != 0 || len(got["daily@example.org"]) != 0 {
			t.Fatalf("after resume at +5m: %d, %d, %d messages; want 1, 0, 0", len(got["weekly@example.org"]), len(got["weekly-later@example.org"]), len(got["daily@example.org"]))
		}
		now = T0.Add(7 * time.Minute)
		if err := r.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		got = received(srv)
		for _, e := range []string{"weekly@example.org", "weekly-later@example.org", "daily@example.org"} {
			if len(got[e]) != 1 {
				t.Errorf("%s has %d messages after resume at +7m, want 1", e, len(got[e]))
			}
		}
		if open, err := digest.OpenRuns(ctx, db); err != nil || len(open) != 0 {
			t.Fatalf("OpenRuns after everything was sent = %+v, %v", open, err)
		}
		for _, id := range []int64{weekly.Plan.Run.ID, daily.Plan.Run.ID} {
			if st, _ := digest.GetRun(ctx, db, id); !st.FinishedAt.Valid || st.Retry != 0 {
				t.Errorf("run %d after resume = %+v; want finished", id, st)
			}
		}
	})
}
