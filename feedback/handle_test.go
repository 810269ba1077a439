package feedback_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/feedback"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
)

const domain = "kommune21.example"

var at = time.Date(2026, 2, 23, 6, 0, 0, 0, time.UTC)

type fixture struct {
	t      *testing.T
	db     *store.DB
	signer *subscribers.Signer
	rp     *feedback.ReturnPath
	h      *feedback.Handler
	runs   int64
}

func newFixture(t *testing.T, db *store.DB, verp bool) *fixture {
	signer, err := subscribers.NewSigner("k1:feedback-test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, signer: signer}
	f.h = &feedback.Handler{DB: db, Signer: signer, Domain: domain, Now: func() time.Time { return at.Add(time.Hour) }}
	if verp {
		f.rp, err = feedback.NewReturnPath("bounces@"+domain, signer)
		if err != nil {
			t.Fatal(err)
		}
		f.h.ReturnPath = f.rp
	}
	return f
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.ExecContext(context.Background(), f.db.Rebind(q), args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func (f *fixture) subscriber(email string) int64 {
	f.t.Helper()
	f.exec(`INSERT INTO subscribers (email, email_key, status, created_at, updated_at) VALUES (?, ?, 'active', ?, ?)`,
		email, strings.ToLower(email), at, at)
	var id int64
	if err := f.db.GetContext(context.Background(), &id, f.db.Rebind(`SELECT id FROM subscribers WHERE email_key = ?`), strings.ToLower(email)); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// run creates a run with one sent delivery per subscriber and returns the
// delivery ids in order.
func (f *fixture) run(subs ...int64) (int64, []int64) {
	f.t.Helper()
	f.runs++
	ctx := context.Background()
	f.exec(`INSERT INTO runs (cadence, edition, at, created_at) VALUES ('weekly', ?, ?, ?)`, fmt.Sprintf("2026-W%02d", f.runs), at, at)
	var runID int64
	f.db.GetContext(ctx, &runID, `SELECT max(id) FROM runs`)
	var ids []int64
	for _, s := range subs {
		f.exec(`INSERT INTO deliveries (run_id, subscriber_id, status, attempts, sent_at, updated_at) VALUES (?, ?, 'sent', 1, ?, ?)`, runID, s, at, at)
		var id int64
		f.db.GetContext(ctx, &id, `SELECT max(id) FROM deliveries`)
		f.exec(`UPDATE deliveries SET message_id = ? WHERE id = ?`, fmt.Sprintf("r%d.d%d@%s", runID, id, domain), id)
		ids = append(ids, id)
	}
	return runID, ids
}

func (f *fixture) status(id int64) (string, feedback.SubscriberStatus) {
	f.t.Helper()
	var st string
	f.db.GetContext(context.Background(), &st, f.db.Rebind(`SELECT status FROM subscribers WHERE id = ?`), id)
	s, err := feedback.StatusOf(context.Background(), f.db, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return st, s
}

func (f *fixture) handle(raw string) feedback.Result {
	f.t.Helper()
	r, err := f.h.Handle(context.Background(), []byte(raw), "test")
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// dsn is an RFC 3464 report sent to envTo about the message msgID to rcpt.
func dsn(envTo, msgID, rcpt, action, status string) string {
	return fmt.Sprintf(`From: MAILER-DAEMON@relay.example (Mail Delivery System)
To: %s
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-%s-%s-%s@relay.example>
Date: Mon, 23 Feb 2026 07:10:00 +0100
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example

Final-Recipient: rfc822; %s
Action: %s
Status: %s
Diagnostic-Code: smtp; 550 %s user unknown

--b
Content-Type: text/rfc822-headers

Message-ID: <%s>
From: Kommune21 Digest <digest@kommune21.example>
To: %s
Subject: Wochenueberblick

--b--
`, envTo, strings.NewReplacer("@", "_", "+", "_").Replace(envTo), status, msgID, rcpt, action, status, status, msgID, rcpt)
}

func arf(envTo, origMailFrom, msgID, rcpt string) string {
	return fmt.Sprintf(`From: fbl@isp.example
To: %s
Subject: Abuse report
Message-ID: <arf-%s@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="f"

--f
Content-Type: text/plain

An abuse report.

--f
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1
Original-Mail-From: <%s>
%s
--f
Content-Type: text/rfc822-headers

Message-ID: <%s>
From: Kommune21 Digest <digest@kommune21.example>
Subject: Wochenueberblick

--f--
`, envTo, strings.NewReplacer("@", "_", "+", "_").Replace(origMailFrom+msgID+rcpt), origMailFrom, rcptLine(rcpt), msgID)
}

func rcptLine(rcpt string) string {
	if rcpt == "" {
		return ""
	}
	return "Original-Rcpt-To: <" + rcpt + ">\n"
}

func msgID(run, del int64) string { return fmt.Sprintf("r%d.d%d@%s", run, del, domain) }

func TestHardBounceByVERP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, true)
		anna, bert := f.subscriber("anna@example.org"), f.subscriber("bert@example.org")
		run, ds := f.run(anna, bert)
		// The relay stripped the message: only the VERP address names the delivery.
		raw := dsn(f.rp.EnvelopeFrom(run, ds[0]), "stripped@relay.example", "anna@example.org", "failed", "5.1.1")
		r := f.handle(raw)
		if r.Outcome != feedback.Applied || r.Change != "bounced" || r.MatchedBy != "verp" || r.DeliveryID != ds[0] {
			t.Fatalf("result %+v", r)
		}
		st, s := f.status(anna)
		if st != "bounced" || s.Reason != "bounce 5.1.1" || s.MailID != r.ID {
			t.Errorf("anna %s %+v, want bounced with the mail as evidence", st, s)
		}
		if st, _ := f.status(bert); st != "active" {
			t.Errorf("bert %s", st)
		}
		again := f.handle(raw)
		if !again.Duplicate || again.ID != r.ID {
			t.Errorf("the same report again: %+v", again)
		}
		var n int
		db.GetContext(context.Background(), &n, `SELECT count(*) FROM inbound_mails`)
		if n != 1 {
			t.Errorf("%d rows for one mail", n)
		}
		stats, err := feedback.StatsOfRun(context.Background(), db, run)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Sent != 2 || stats.Bounced != 1 || stats.BounceRate != 0.5 || stats.Complained != 0 {
			t.Errorf("stats %+v", stats)
		}
		latest, err := feedback.Latest(context.Background(), db, anna)
		if err != nil || latest == nil || latest.Status != "5.1.1" || latest.DeliveryID != ds[0] {
			t.Errorf("latest %+v %v", latest, err)
		}
	})
}

func TestBounceByMessageIDAndRecipient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, false)
		anna, bert := f.subscriber("Anna@Example.org"), f.subscriber("bert@example.org")
		run, ds := f.run(anna, bert)

		// Forged: bert's address with anna's Message-ID.
		r := f.handle(dsn("digest@"+domain, msgID(run, ds[0]), "bert@example.org", "failed", "5.1.1"))
		if r.Outcome != feedback.Unmatched {
			t.Errorf("Message-ID of one delivery with another's address: %+v", r)
		}
		// Forged: only an address, Message-ID unknown.
		r = f.handle(dsn("digest@"+domain, "whatever@elsewhere.example", "bert@example.org", "failed", "5.1.2"))
		if r.Outcome != feedback.Unmatched || !strings.Contains(r.Note, "only an address") {
			t.Errorf("address only: %+v", r)
		}
		// Forged: a Message-ID of ours for a delivery that does not exist.
		r = f.handle(dsn("digest@"+domain, msgID(run, 999), "bert@example.org", "failed", "5.1.3"))
		if r.Outcome != feedback.Unmatched {
			t.Errorf("unknown delivery: %+v", r)
		}
		for _, id := range []int64{anna, bert} {
			if st, _ := f.status(id); st != "active" {
				t.Fatalf("a forged report changed subscriber %d to %s", id, st)
			}
		}
		// Genuine: both name the same delivery (address in any case).
		r = f.handle(dsn("digest@"+domain, msgID(run, ds[0]), "anna@example.org", "failed", "5.1.1"))
		if r.Outcome != feedback.Applied || r.MatchedBy != "message-id" {
			t.Fatalf("genuine: %+v", r)
		}
		if st, _ := f.status(anna); st != "bounced" {
			t.Errorf("anna %s", st)
		}
		list, err := feedback.List(context.Background(), db, true, 0)
		if err != nil || len(list) != 3 {
			t.Errorf("unmatched list %d %v", len(list), err)
		}
	})
}

func TestForgedVERP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, true)
		anna := f.subscriber("anna@example.org")
		run, ds := f.run(anna)
		good := f.rp.EnvelopeFrom(run, ds[0])
		local := good[:strings.IndexByte(good, '@')]
		tag := local[strings.LastIndexByte(local, '.')+1:]
		forged := strings.Replace(good, "."+tag+"@", ".aaaaaaaa@", 1)
		other := fmt.Sprintf("bounces+r%d.d%d.%s@%s", run, ds[0]+1, tag, domain) // anna's tag on another delivery
		for _, to := range []string{forged, other} {
			r := f.handle(dsn(to, "x@y.example", "anna@example.org", "failed", "5.1.1"))
			if r.Outcome != feedback.Unmatched || !strings.Contains(r.Note, "does not verify") {
				t.Errorf("forged VERP %s: %+v", to, r)
			}
		}
		if st, _ := f.status(anna); st != "active" {
			t.Fatalf("forged VERP bounced anna")
		}
	})
}

func TestComplaint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, true)
		anna, bert := f.subscriber("anna@example.org"), f.subscriber("bert@example.org")
		run, ds := f.run(anna, bert)
		// Redacted recipient: the VERP Original-Mail-From names the delivery.
		r := f.handle(arf("bounces@"+domain, f.rp.EnvelopeFrom(run, ds[0]), "unknown@x.example", ""))
		if r.Outcome != feedback.Applied || r.Change != "unsubscribed" || r.Kind != "complaint" {
			t.Fatalf("complaint: %+v", r)
		}
		st, s := f.status(anna)
		if st != "unsubscribed" || s.Reason != "complaint" {
			t.Errorf("anna %s %+v", st, s)
		}
		// By Message-ID and Original-Rcpt-To, without VERP.
		r = f.handle(arf("digest@"+domain, "digest@"+domain, msgID(run, ds[1]), "bert@example.org"))
		if r.Outcome != feedback.Applied || r.MatchedBy != "message-id" {
			t.Fatalf("complaint by Message-ID: %+v", r)
		}
		stats, _ := feedback.StatsOfRun(context.Background(), db, run)
		if stats.Complained != 2 || stats.UnsubscribedAfter != 2 || stats.ComplaintRate != 1 {
			t.Errorf("stats %+v", stats)
		}
	})
}

func TestSoftBouncesInARow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, true)
		anna := f.subscriber("anna@example.org")
		n := 0
		soft := func(run, del int64) feedback.Result {
			n++
			return f.handle(dsn(f.rp.EnvelopeFrom(run, del), fmt.Sprintf("n%d@x.example", n), "anna@example.org", "delayed", "4.2.2"))
		}
		r1, d1 := f.run(anna)
		soft(r1, d1[0])
		soft(r1, d1[0])      // the same edition twice counts once
		r2, _ := f.run(anna) // arrived: breaks the streak
		_ = r2
		r3, d3 := f.run(anna)
		soft(r3, d3[0])
		r4, d4 := f.run(anna)
		res := soft(r4, d4[0])
		if st, s := f.status(anna); st != "active" || s.SoftBounces != 2 || res.Outcome != feedback.Recorded {
			t.Fatalf("after 2 soft bounces in a row: %s %+v %+v", st, s, res)
		}
		r5, d5 := f.run(anna)
		res = soft(r5, d5[0])
		st, s := f.status(anna)
		if st != "bounced" || s.Reason != "3 soft bounces in a row" || res.Outcome != feedback.Applied {
			t.Fatalf("after 3 soft bounces in a row: %s %+v %+v", st, s, res)
		}
		stats, _ := feedback.StatsOfRun(context.Background(), db, r5)
		if stats.SoftBounced != 1 || stats.Bounced != 0 {
			t.Errorf("stats %+v", stats)
		}
	})
}

func TestUnsubscribeMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, false)
		anna, bert, cara := f.subscriber("anna@example.org"), f.subscriber("bert@example.org"), f.subscriber("cara@example.org")
		mailFrom := func(from, subject string) string {
			return "From: " + from + "\nTo: digest@" + domain + "\nSubject: " + subject + "\nMessage-ID: <" + strings.ReplaceAll(from+subject, " ", "_") + "@x>\n\nBitte abmelden.\n"
		}
		r := f.handle(mailFrom("Anna <ANNA@example.org>", "Abmelden"))
		if r.Outcome != feedback.Applied || r.MatchedBy != "sender" {
			t.Fatalf("from the subscriber: %+v", r)
		}
		tok := f.signer.Token(subscribers.PurposeUnsubscribe, bert, "bert@example.org")
		r = f.handle(mailFrom("alias@forwarder.example", "Re: Abmelden "+tok))
		if r.Outcome != feedback.Applied || r.MatchedBy != "token" || r.SubscriberID != bert {
			t.Fatalf("with bert's token from another address: %+v", r)
		}
		// cara's id with bert's address: the token does not match cara.
		forged := f.signer.Token(subscribers.PurposeUnsubscribe, cara, "bert@example.org")
		pref := f.signer.Token(subscribers.PurposePreferences, cara, "cara@example.org")
		for _, tk := range []string{forged, pref, "k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
			if r := f.handle(mailFrom("stranger@evil.example", "Abmelden "+tk)); r.Outcome != feedback.Unmatched {
				t.Errorf("token %s: %+v", tk, r)
			}
		}
		// An out-of-office reply from cara that says "abmelden" is ignored.
		r = f.handle("From: cara@example.org\nSubject: Abwesenheitsnotiz: Abmelden\nAuto-Submitted: auto-replied\n\nabmelden\n")
		if r.Outcome != feedback.Ignored {
			t.Errorf("auto-reply: %+v", r)
		}
		for id, want := range map[int64]string{anna: "unsubscribed", bert: "unsubscribed", cara: "active"} {
			if st, s := f.status(id); st != want || (want == "unsubscribed" && s.Reason != "unsubscribe mail") {
				t.Errorf("subscriber %d: %s %+v, want %s", id, st, s, want)
			}
		}
	})
}
