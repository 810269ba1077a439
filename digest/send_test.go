package digest_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/templates"
)

// testLinks makes recognisable personal links without a signer.
type testLinks struct{}

func (testLinks) UnsubscribeURL(id int64, email string) string {
	return fmt.Sprintf("https://digest.example/unsubscribe?t=u%d", id)
}
func (testLinks) PreferencesURL(id int64, email string) string {
	return fmt.Sprintf("https://digest.example/preferences?t=p%d", id)
}
func (testLinks) ArchiveURL(selectionID int64) string {
	return fmt.Sprintf("https://digest.example/archive?t=a%d", selectionID)
}

func newRunner(t *testing.T, db *store.DB, srv *smtptest.Server, now *time.Time) *digest.Runner {
	t.Helper()
	tmpl, err := templates.New(templates.Site{Name: "Kommune21 Digest", PortalURL: "https://www.kommune21.de", Imprint: "Impressum", ReplyTo: "redaktion@kommune21.example"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := mailer.ParseURL(fmt.Sprintf("smtp://%s?tls=none", srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk := func() time.Time { return *now }
	return &digest.Runner{
		Planner: &digest.Planner{DB: db, Now: clk},
		Sender: &digest.Sender{DB: db, Templates: tmpl, Transport: tr, Links: testLinks{}, Now: clk, Workers: 2, Batch: 3,
			Message: digest.MessageOptions{From: mail.Address{Name: "Kommune21 Digest", Address: "digest@kommune21.example"},
				ListID: "Kommune21 Digest <digest.kommune21.example>", Domain: "kommune21.example", UnsubscribeMailto: "mailto:redaktion@kommune21.example"}},
	}
}

// received groups the server's messages by recipient.
func received(srv *smtptest.Server) map[string][]smtptest.Received {
	m := map[string][]smtptest.Received{}
	for _, r := range srv.Messages() {
		for _, to := range r.To {
			m[to] = append(m[to], r)
		}
	}
	return m
}

func seed(f fixture, n int) {
	f.article("Wiesbaden: Register", day(-2), day(-2), "DE-HE", "registermodernisierung")
	f.article("Erfurt: Cloud", day(-3), day(-3), "DE-TH", "cloud-infrastruktur")
	for i := 0; i < n; i++ {
		f.subscriber(fmt.Sprintf("s%02d@example.org", i))
	}
}

func TestSender_ExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, 7)
		srv := smtptest.Start(t)
		now := T0
		r := newRunner(t, db, srv, &now)
		ctx := context.Background()
		rep, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Send.Sent != 7 {
			t.Fatalf("sent %d, want 7: %+v", rep.Send.Sent, rep)
		}
		now = now.Add(time.Hour)
		rep, err = r.Run(ctx, digest.Weekly, now, false)
		if err != nil || rep.Send.Done() != 0 || !rep.Plan.Resumed {
			t.Fatalf("second run = %+v, %v; want a resumed run that sends nothing", rep, err)
		}
		got := received(srv)
		if len(got) != 7 {
			t.Fatalf("%d recipients got mail, want 7", len(got))
		}
		for to, msgs := range got {
			if len(msgs) != 1 {
				t.Errorf("%s got %d messages", to, len(msgs))
			}
			h := msgs[0].Header
			id := strings.TrimSuffix(strings.TrimPrefix(h.Get("Message-Id"), "<"), ">")
			if !strings.HasPrefix(id, fmt.Sprintf("r%d.d", rep.Plan.Run.ID)) || !strings.HasSuffix(id, "@kommune21.example") {
				t.Errorf("%s: Message-ID %q is not derived from run and delivery", to, h.Get("Message-Id"))
			}
			if !strings.Contains(h.Get("Subject"), "KW 9") && !strings.Contains(decodeHeader(h.Get("Subject")), "KW 9") {
				t.Errorf("%s: subject %q lacks the edition", to, decodeHeader(h.Get("Subject")))
			}
		}
		stats, err := digest.GetRun(ctx, db, rep.Plan.Run.ID)
		if err != nil || stats.Sent != 7 || stats.Pending != 0 || !stats.FinishedAt.Valid {
			t.Fatalf("run stats = %+v, %v", stats, err)
		}
	})
}

func decodeHeader(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

func TestSender_OwnUnsubscribeLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, 5)
		srv := smtptest.Start(t)
		now := T0
		r := newRunner(t, db, srv, &now)
		if _, err := r.Run(context.Background(), digest.Weekly, now, false); err != nil {
			t.Fatal(err)
		}
		if got := received(srv); len(got) != 5 {
			t.Fatalf("%d recipients got mail, want 5", len(got))
		}
		for to, msgs := range received(srv) {
			if len(msgs) != 1 {
				t.Errorf("%s got %d messages, want 1", to, len(msgs))
			}
			var id int64
			db.GetContext(context.Background(), &id, db.Rebind(`SELECT id FROM subscribers WHERE email = ?`), to)
			lu := msgs[0].Header.Get("List-Unsubscribe")
			want := fmt.Sprintf("<https://digest.example/unsubscribe?t=u%d>", id)
			if !strings.Contains(lu, want) || strings.Count(lu, "https://") != 1 {
				t.Errorf("%s: List-Unsubscribe %q, want exactly its own %s", to, lu, want)
			}
			if msgs[0].Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
				t.Errorf("%s: List-Unsubscribe-Post = %q", to, msgs[0].Header.Get("List-Unsubscribe-Post"))
			}
			if !strings.Contains(string(msgs[0].Data), fmt.Sprintf("unsubscribe?t=u%d", id)) {
				t.Errorf("%s: body lacks its own unsubscribe link", to)
			}
		}
	})
}

func TestSender_RetryThenSuccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, 4)
		srv := smtptest.Start(t)
		srv.FailRcpt("s01@example.org", smtptest.Temporary(1))
		now := T0
		r := newRunner(t, db, srv, &now)
		ctx := context.Background()
		rep, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil || rep.Send.Sent != 3 || rep.Send.Retry != 1 {
			t.Fatalf("first run = %+v, %v; want 3 sent, 1 retry", rep.Send, err)
		}
		// Not yet due: nothing happens.
		now = now.Add(time.Minute)
		if rep, _ = r.Run(ctx, digest.Weekly, now, false); rep.Send.Done() != 0 {
			t.Fatalf("retry before its time: %+v", rep.Send)
		}
		now = now.Add(5 * time.Minute)
		rep, err = r.Run(ctx, digest.Weekly, now, false)
		if err != nil || rep.Send.Sent != 1 {
			t.Fatalf("second run = %+v, %v; want the retry sent", rep.Send, err)
		}
		if n := len(received(srv)["s01@example.org"]); n != 1 {
			t.Fatalf("s01 got %d messages, want 1", n)
		}
	})
}

func TestSender_GivesUpAfterMaxAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, 1)
		srv := smtptest.Start(t)
		srv.FailRcpt("s00@example.org", smtptest.Temporary(100))
		now := T0
		r := newRunner(t, db, srv, &now)
		for i := 0; i < digest.MaxAttempts+2; i++ {
			if _, err := r.Run(context.Background(), digest.Weekly, now, false); err != nil {
				t.Fatal(err)
			}
			now = now.Add(13 * time.Hour)
		}
		stats, _ := digest.GetRun(context.Background(), db, 0)
		if stats.Failed != 1 || stats.Retry != 0 {
			t.Fatalf("stats = %+v, want failed after %d attempts", stats, digest.MaxAttempts)
		}
		groups, _ := digest.RunErrors(context.Background(), db, stats.ID)
		if len(groups) != 1 || !strings.Contains(groups[0].Reason, fmt.Sprintf("gave up after %d attempts", digest.MaxAttempts)) {
			t.Fatalf("errors = %+v", groups)
		}
	})
}

func TestSender_Bounce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, 3)
		srv := smtptest.Start(t)
		srv.FailRcpt("s02@example.org", smtptest.Permanent("5.1.1"))
		now := T0
		r := newRunner(t, db, srv, &now)
		ctx := context.Background()
		rep, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil || rep.Send.Sent != 2 || rep.Send.Failed != 1 {
			t.Fatalf("run = %+v, %v", rep.Send, err)
		}
		var status string
		db.GetContext(ctx, &status, `SELECT status FROM subscribers WHERE email = 's02@example.org'`)
		if status != "bounced" {
			t.Fatalf("subscriber after 550 5.1.1 is %s, want bounced", status)
		}
		f.article("Neu: Artikel", day(5), day(5), "DE")
		now = day(7)
		rep, _ = r.Run(ctx, digest.Weekly, now, false)
		if rep.Plan.Planned != 2 {
			t.Fatalf("next week planned %d, want 2 (bounced left out)", rep.Plan.Planned)
		}
	})
}

func TestSender_DroppedConnection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, 6)
		srv := smtptest.Start(t)
		srv.FailData("s03@example.org", smtptest.Drop().Times(1))
		now := T0
		r := newRunner(t, db, srv, &now)
		rep, err := r.Run(context.Background(), digest.Weekly, now, false)
		if err != nil || rep.Send.Sent != 5 || rep.Send.Retry != 1 {
			t.Fatalf("run = %+v, %v; want 5 sent and the dropped one to retry", rep.Send, err)
		}
	})
}

func TestSender_LeftAfterPlanning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, 3)
		srv := smtptest.Start(t)
		now := T0
		r := newRunner(t, db, srv, &now)
		ctx := context.Background()
		if _, err := r.Planner.Plan(ctx, digest.Weekly, now, false); err != nil {
			t.Fatal(err)
		}
		f.exec(`UPDATE subscribers SET status = 'unsubscribed' WHERE email = 's01@example.org'`)
		f.exec(`DELETE FROM subscribers WHERE email = 's02@example.org'`)
		rep, err := r.Run(ctx, digest.Weekly, now, false)
		if err != nil || rep.Send.Sent != 1 || rep.Send.Skipped != 2 {
			t.Fatalf("run = %+v, %v; want 1 sent, 2 skipped", rep.Send, err)
		}
	})
}

func TestSender_NextWeekRepeatsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		seed(f, 3)
		srv := smtptest.Start(t)
		now := T0
		r := newRunner(t, db, srv, &now)
		ctx := context.Background()
		if _, err := r.Run(ctx, digest.Weekly, now, false); err != nil {
			t.Fatal(err)
		}
		f.article("Magdeburg: Neu", day(4), day(4), "DE-ST", "buergerbeteiligung")
		now = day(7)
		if _, err := r.Run(ctx, digest.Weekly, now, false); err != nil {
			t.Fatal(err)
		}
		if got := received(srv); len(got) != 3 {
			t.Fatalf("%d recipients got mail, want 3", len(got))
		}
		for to, msgs := range received(srv) {
			if len(msgs) != 2 {
				t.Fatalf("%s got %d messages, want 2", to, len(msgs))
			}
			second := string(msgs[1].Data)
			if strings.Contains(second, "Wiesbaden") || strings.Contains(second, "Erfurt") || !strings.Contains(second, "Magdeburg") {
				t.Errorf("%s: the second edition repeats an article or lacks the new one", to)
			}
		}
	})
}

func TestSender_TwoSendersShareTheOutbox(t *testing.T) {
	db := storetest.Postgres(t)
	f := fixture{t, db}
	seed(f, 60)
	srv := smtptest.Start(t)
	now := T0
	ctx := context.Background()
	a, b := newRunner(t, db, srv, &now), newRunner(t, db, srv, &now)
	plan, err := a.Planner.Plan(ctx, digest.Weekly, now, false)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var pa, pb digest.Progress
	wg.Add(2)
	go func() { defer wg.Done(); pa, _ = a.Sender.Send(ctx, plan.Run) }()
	go func() { defer wg.Done(); pb, _ = b.Sender.Send(ctx, plan.Run) }()
	wg.Wait()
	if pa.Sent+pb.Sent != 60 {
		t.Fatalf("senders sent %d + %d, want 60 together", pa.Sent, pb.Sent)
	}
	for to, msgs := range received(srv) {
		if len(msgs) != 1 {
			t.Errorf("%s got %d messages", to, len(msgs))
		}
	}
	if n := len(received(srv)); n != 60 {
		t.Fatalf("%d recipients, want 60", n)
	}
}

// Deliveries claimed by a sender that died (its lock connection is gone) are
// sent by the next sender; those claimed by a sender that is still alive are
// left to it, until it goes away.
func TestSender_ClaimsOfAStoppedSenderAreReleased(t *testing.T) {
	db := storetest.Postgres(t)
	f := fixture{t, db}
	seed(f, 12)
	srv := smtptest.Start(t)
	now := T0
	ctx := context.Background()
	r := newRunner(t, db, srv, &now)
	plan, err := r.Planner.Plan(ctx, digest.Weekly, now, false)
	if err != nil {
		t.Fatal(err)
	}
	// A live sender: a session holding the sender lock ("dig1", its backend id).
	live, err := db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	var pid int64
	if err := live.GetContext(ctx, &pid, `SELECT pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	if _, err := live.ExecContext(ctx, `SELECT pg_advisory_lock($1, $2)`, 0x64696731, pid); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := db.SelectContext(ctx, &ids, `SELECT id FROM deliveries WHERE run_id = $1 ORDER BY id`, plan.Run.ID); err != nil || len(ids) != 12 {
		t.Fatalf("deliveries %v, %v", ids, err)
	}
	f.exec(`UPDATE deliveries SET claimed_by = $1 WHERE id = ANY($2)`, pid, pqArray(ids[:4]))
	f.exec(`UPDATE deliveries SET claimed_by = 2147480000 WHERE id = ANY($1)`, pqArray(ids[4:8])) // no such lock: a dead sender

	p, err := r.Sender.Send(ctx, plan.Run)
	if err != nil || p.Sent != 8 {
		t.Fatalf("first send: %+v, %v; want 8 sent (4 of the dead sender, 4 unclaimed), the live sender's 4 left", p, err)
	}
	// The live sender goes away without giving its claims back: its session
	// ends (a bad connection is closed, not returned to the pool).
	_ = live.Raw(func(any) error { return driver.ErrBadConn })
	live.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var held bool
		if err := db.GetContext(ctx, &held, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)`, pid); err != nil {
			t.Fatal(err)
		}
		if !held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the live sender's session did not end")
		}
	}
	now = now.Add(time.Minute)
	p, err = r.Sender.Send(ctx, plan.Run)
	if err != nil || p.Sent != 4 {
		t.Fatalf("second send: %+v, %v; want the 4 claims of the stopped sender", p, err)
	}
	got := received(srv)
	if len(got) != 12 {
		t.Errorf("%d recipients, want 12", len(got))
	}
	for to, msgs := range got {
		if len(msgs) != 1 {
			t.Errorf("%s got %d messages, want 1", to, len(msgs))
		}
	}
}

// pqArray formats ids as a PostgreSQL array literal.
func pqArray(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return "{" + strings.Join(s, ",") + "}"
}
