package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
)

// daemon is a running `digest serve` process.
type daemon struct {
	cmd  *exec.Cmd
	addr string
	log  *syncBuffer
	done chan error
}

// buildBinary compiles cmd/digest into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "digest")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runBinary(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("digest %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func startDaemon(t *testing.T, bin string, env []string) *daemon {
	t.Helper()
	d := &daemon{log: &syncBuffer{}, done: make(chan error, 1)}
	d.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	d.cmd.Env = env
	d.cmd.Stdout = d.log
	d.cmd.Stderr = d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.log.String())
		}
	})
	re := regexp.MustCompile(`msg=serving addr=(127\.0\.0\.1:\d+)`)
	waitUntil(t, "the daemon to listen", func() bool {
		if m := re.FindStringSubmatch(d.log.String()); m != nil {
			d.addr = m[1]
			return true
		}
		return false
	})
	return d
}

// waitUntil polls cond with a generous bound; it never asserts timing.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// follow requests a link from a mail against the daemon: the link's path and
// query on the daemon's address (as a reverse proxy in front would).
func (d *daemon) follow(t *testing.T, method, link string, form url.Values) (int, string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, "http://"+d.addr+u.RequestURI(), body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mailParts returns the decoded text and HTML parts of a received message.
func mailParts(t *testing.T, data []byte) (text, html string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p // the multipart reader decodes quoted-printable itself
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(p)
		}
		b, _ := io.ReadAll(r)
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			html = string(b)
		}
	}
}

func messagesTo(srv *smtptest.Server, rcpt string) []smtptest.Received {
	var out []smtptest.Received
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, rcpt) {
				out = append(out, m)
			}
		}
	}
	return out
}

// feedRSS is a small feed with items published shortly before now, so that
// they are inside the freshness window of a run happening now.
func feedRSS(now time.Time, items ...[3]string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Testportal</title><link>https://portal.example/</link><description>e2e</description>`)
	for i, it := range items {
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://portal.example/meldung/%s.html</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>%s</description></item>`,
			it[1], it[0], it[0], now.Add(-time.Duration(i+1)*time.Hour).Format(time.RFC1123Z), it[2])
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// TestE2E_Serve starts the real binary with an @every schedule against a
// loopback SMTP server, and checks what a subscriber sees: the digest arrives
// once per edition, and the links in the received mails confirm, change the
// choices and unsubscribe with one click.
//
// It runs on SQLite and, when DIGEST_TEST_POSTGRES is set, on PostgreSQL.
func TestE2E_Serve(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the binary; skipped with -short")
	}
	bin := buildBinary(t)
	t.Run("sqlite", func(t *testing.T) { e2eServe(t, bin, storetest.SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { e2eServe(t, bin, storetest.PostgresURL(t)) })
}

func e2eServe(t *testing.T, bin, dbURL string) {
	smtp := smtptest.Start(t)
	dir := t.TempDir()
	now := time.Now()

	feedFile := filepath.Join(dir, "feed.rss")
	os.WriteFile(feedFile, []byte(feedRSS(now,
		[3]string{"e2e-1", "Erfurt: Thüringen startet Bürgerportal", "Die Landeshauptstadt schaltet ein neues Portal frei."},
		[3]string{"e2e-2", "Jena: Neue Ladesäulen in der Innenstadt", "Die Stadtwerke bauen die Ladeinfrastruktur für Elektroautos aus."},
	)), 0o644)
	polled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, feedRSS(now, [3]string{"e2e-polled", "Gera: Neues Ratsinformationssystem", "Polled by the daemon."}))
	}))
	defer polled.Close()

	env := append(os.Environ(),
		"DIGEST_DB="+dbURL,
		"DIGEST_SMTP=smtp://"+smtp.Addr+"?tls=none",
		"DIGEST_FROM=Kommune21 Digest <digest@example.org>",
		"DIGEST_BASE_URL=https://digest.example.org",
		"DIGEST_SECRET=e2e:0123456789abcdef0123456789",
		"DIGEST_SCHEDULE=@every 2s",
		"DIGEST_SCHEDULE_DAILY=@every 1h",
		"DIGEST_FEEDS="+polled.URL+"/feed.rss",
		"DIGEST_FEED_INTERVAL=1h",
	)
	runBinary(t, bin, env, "migrate")
	runBinary(t, bin, env, "articles", "import", feedFile, "--at", now.Add(-30*time.Minute).Format(time.RFC3339))
	runBinary(t, bin, env, "subscribers", "add", "anna@example.org", "--name", "Anna Beispiel", "--region", "DE-TH", "--confirmed")
	runBinary(t, bin, env, "subscribers", "add", "bob@example.org", "--name", "Bob Muster") // pending: gets the confirmation mail
	confirmMails := smtp.WaitFor(t, 1, 30*time.Second)
	if len(messagesTo(smtp, "bob@example.org")) != 1 {
		t.Fatalf("confirmation mail to bob missing: %d messages", len(confirmMails))
	}

	d := startDaemon(t, bin, env)

	// The weekly edition reaches anna.
	waitUntil(t, "anna's digest", func() bool { return len(messagesTo(smtp, "anna@example.org")) >= 1 })
	annaMail := messagesTo(smtp, "anna@example.org")[0]
	if got := annaMail.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	unsubLink := regexp.MustCompile(`<(https://digest\.example\.org/unsubscribe\?t=[^>]+)>`).FindStringSubmatch(annaMail.Header.Get("List-Unsubscribe"))
	if unsubLink == nil {
		t.Fatalf("List-Unsubscribe = %q: no https link", annaMail.Header.Get("List-Unsubscribe"))
	}
	text, html := mailParts(t, annaMail.Data)
	if !strings.Contains(text, "Thüringen startet Bürgerportal") || !strings.Contains(html, "Thüringen startet Bürgerportal") {
		t.Errorf("digest lacks the article:\n%s", text)
	}
	prefLink := regexp.MustCompile(`https://digest\.example\.org/preferences\?t=[A-Za-z0-9_.-]+`).FindString(html)
	if prefLink == "" {
		t.Fatalf("no preferences link in the HTML part:\n%s", html)
	}

	// "Im Browser ansehen" opens the edition without anything of anna.
	archiveLink := regexp.MustCompile(`https://digest\.example\.org/archive\?t=[A-Za-z0-9_.-]+`).FindString(html)
	if archiveLink == "" || !strings.Contains(text, "<"+archiveLink+">") {
		t.Fatalf("no browser-view link in both parts:\n%s", text)
	}
	// The view opens once the delivery is recorded as sent; the recorder
	// commits it just after the server accepted the mail.
	waitUntil(t, "the delivery recorded as sent", func() bool { code, _ := d.follow(t, "GET", archiveLink, nil); return code == 200 })
	if code, body := d.follow(t, "GET", archiveLink, nil); code != 200 || !strings.Contains(body, "Thüringen startet Bürgerportal") ||
		strings.Contains(body, "anna@example.org") || strings.Contains(body, "Anna") || strings.Contains(body, "unsubscribe") {
		t.Fatalf("GET browser view = %d\n%s", code, body)
	}

	// More ticks come and go: the edition is never sent twice.
	runsBefore := strings.Count(d.log.String(), `msg="edition run finished" cadence=weekly`)
	waitUntil(t, "two more weekly ticks", func() bool {
		return strings.Count(d.log.String(), `msg="edition run finished" cadence=weekly`) >= runsBefore+2
	})
	if n := len(messagesTo(smtp, "anna@example.org")); n != 1 {
		t.Fatalf("anna received %d digests of one edition, want 1", n)
	}

	// Bob confirms from his mail; the next tick sends him this week's edition.
	bobConfirm := messagesTo(smtp, "bob@example.org")[0]
	_, bobHTML := mailParts(t, bobConfirm.Data)
	confirmLink := regexp.MustCompile(`https://digest\.example\.org/confirm\?t=[A-Za-z0-9_.-]+`).FindString(bobHTML)
	if confirmLink == "" {
		t.Fatalf("no confirm link in bob's mail:\n%s", bobHTML)
	}
	if code, body := d.follow(t, "GET", confirmLink, nil); code != 200 || !strings.Contains(body, "Anmeldung bestätigen") {
		t.Fatalf("GET confirm = %d\n%s", code, body)
	}
	if code, body := d.follow(t, "POST", confirmLink, url.Values{}); code != 200 || !strings.Contains(body, "Anmeldung bestätigt") {
		t.Fatalf("POST confirm = %d\n%s", code, body)
	}
	waitUntil(t, "bob's first digest", func() bool { return len(messagesTo(smtp, "bob@example.org")) >= 2 })

	e2eSignup(t, d, smtp)

	// Anna changes her choices from the link in her mail.
	if code, body := d.follow(t, "GET", prefLink, nil); code != 200 || !strings.Contains(body, `value="DE-TH" checked`) {
		t.Fatalf("GET preferences = %d\n%s", code, body)
	}
	code, body := d.follow(t, "POST", prefLink, url.Values{"regions": {"DE-BY", "DE-TH"}, "topics": {"open-source"}, "cadence": {"daily"}})
	if code != 200 || !strings.Contains(body, "Ihre Einstellungen sind gespeichert") {
		t.Fatalf("POST preferences = %d\n%s", code, body)
	}

	// And leaves with one click (RFC 8058), twice: 200 both times.
	for i := range 2 {
		if code, body := d.follow(t, "POST", unsubLink[1], url.Values{"List-Unsubscribe": {"One-Click"}}); code != 200 {
			t.Fatalf("one-click POST %d = %d\n%s", i+1, code, body)
		}
	}

	// Stop the daemon the way an init system does.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("daemon exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not exit after SIGTERM")
	}

	// The database says what the subscriber did, and each edition ran once.
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	anna, err := subscribers.NewStore(db, nil).GetByEmail(context.Background(), "anna@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if anna.Status != subscribers.StatusUnsubscribed || anna.Cadence != subscribers.Daily ||
		strings.Join(anna.Regions, ",") != "DE-BY,DE-TH" || strings.Join(anna.Topics, ",") != "open-source" {
		t.Errorf("anna after following her links: %+v", anna)
	}
	var dup int
	if err := db.GetContext(context.Background(), &dup, `SELECT count(*) FROM (SELECT cadence, edition FROM runs GROUP BY cadence, edition HAVING count(*) > 1) x`); err != nil || dup != 0 {
		t.Errorf("editions with more than one run: %d (%v)", dup, err)
	}
	var polledN int
	if err := db.GetContext(context.Background(), &polledN, `SELECT count(*) FROM articles WHERE key = 'e2e-polled'`); err != nil || polledN != 1 {
		t.Errorf("the polled feed's article is in the database %d times (%v), want 1", polledN, err)
	}
	if n := len(messagesTo(smtp, "anna@example.org")); n != 1 {
		t.Errorf("anna received %d digests, want 1", n)
	}
	clara, err := subscribers.NewStore(db, nil).GetByEmail(context.Background(), "clara@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if clara.Status != subscribers.StatusActive || clara.Name != "Clara Leserin" || strings.Join(clara.Regions, ",") != "DE-SN,DE-TH" ||
		strings.Join(clara.Topics, ",") != "ozg-onlinedienste" || clara.Consent.Method != "double-opt-in" || clara.Consent.IP != "127.0.0.1" {
		t.Errorf("clara after signing up twice: %+v", clara)
	}
	events, err := subscribers.NewStore(db, nil).ConsentEvents(context.Background(), clara.ID)
	if err != nil || len(events) != 2 || events[0].Kind != subscribers.EventSignupRequested || events[1].Kind != subscribers.EventConfirmed ||
		!strings.Contains(events[0].Details, "regions DE-SN,DE-TH; topics ozg-onlinedienste; cadence weekly") {
		t.Errorf("clara's consent events: %+v (%v)", events, err)
	}
	if strings.Contains(d.log.String(), "0123456789abcdef0123456789") {
		t.Error("the secret appears in the daemon's log")
	}
	logLines := bufio.NewScanner(strings.NewReader(d.log.String()))
	for logLines.Scan() {
		if strings.Contains(logLines.Text(), "level=ERROR") {
			t.Errorf("error in the daemon log: %s", logLines.Text())
		}
	}
}

// TestE2E_ServeShutdownMidSend stops the daemon with SIGTERM while slow@'s
// message is held up by the SMTP server, and lets the server answer only once
// the daemon has cancelled its jobs: the message in flight is sent and
// recorded, the one after it is not tried, the daemon exits 0, and the next
// daemon sends what is left, so that every subscriber ends up with exactly one
// digest of the edition.
// digests returns the digests (not the confirmation or links mails) to rcpt.
func digests(srv *smtptest.Server, rcpt string) []smtptest.Received {
	var out []smtptest.Received
	for _, m := range messagesTo(srv, rcpt) {
		if m.Header.Get("List-Unsubscribe-Post") != "" {
			out = append(out, m)
		}
	}
	return out
}

// e2eSignup: a reader signs up through the public form, confirms from the
// mail with POST, gets the next scheduled digest with her choices, and
// signing up again only brings the "already subscribed" mail.
func e2eSignup(t *testing.T, d *daemon, smtp *smtptest.Server) {
	t.Helper()
	const base = "https://digest.example.org"
	if code, body := d.follow(t, "GET", base+"/subscribe?regions=DE-TH&topics=ozg-onlinedienste", nil); code != 200 ||
		!strings.Contains(body, `value="DE-TH" checked`) || !strings.Contains(body, `value="ozg-onlinedienste" checked`) {
		t.Fatalf("GET /subscribe = %d\n%s", code, body)
	}
	form := url.Values{"email": {"clara@example.org"}, "name": {"Clara Leserin"}, "regions": {"DE-TH", "DE-SN"},
		"topics": {"ozg-onlinedienste"}, "cadence": {"weekly"}, "website": {""}}
	code, first := d.follow(t, "POST", base+"/subscribe", form)
	if code != 200 || !strings.Contains(first, "Bitte prüfen Sie Ihr Postfach") {
		t.Fatalf("POST /subscribe = %d\n%s", code, first)
	}
	waitUntil(t, "clara's confirmation mail", func() bool { return len(messagesTo(smtp, "clara@example.org")) >= 1 })
	confirmMail := messagesTo(smtp, "clara@example.org")[0]
	if subj := confirmMail.Header.Get("Subject"); !strings.Contains(subj, "Anmeldung") {
		t.Errorf("confirmation subject %q", subj)
	}
	_, html := mailParts(t, confirmMail.Data)
	link := regexp.MustCompile(`https://digest\.example\.org/confirm\?t=[A-Za-z0-9_.-]+`).FindString(html)
	if link == "" {
		t.Fatalf("no confirm link in clara's mail:\n%s", html)
	}
	if code, body := d.follow(t, "POST", link, url.Values{}); code != 200 || !strings.Contains(body, "Anmeldung bestätigt") {
		t.Fatalf("POST confirm = %d\n%s", code, body)
	}

	waitUntil(t, "clara's first digest", func() bool { return len(digests(smtp, "clara@example.org")) >= 1 })
	text, _ := mailParts(t, digests(smtp, "clara@example.org")[0].Data)
	if !strings.Contains(text, "Thüringen startet Bürgerportal") || strings.Contains(text, "Neue Ladesäulen") {
		t.Errorf("clara's digest does not follow her choices (Thüringen/Sachsen, OZG):\n%s", text)
	}

	// The same address signs up again, with other choices: the same page,
	// the "already subscribed" mail, nothing changed (checked at the end).
	form.Set("regions", "DE-BY")
	code, again := d.follow(t, "POST", base+"/subscribe", form)
	if code != 200 || again != first {
		t.Fatalf("second signup = %d, page differs from the first:\n%s", code, again)
	}
	waitUntil(t, "the already-subscribed mail", func() bool { return len(messagesTo(smtp, "clara@example.org")) >= 3 })
	m := messagesTo(smtp, "clara@example.org")[2]
	text, _ = mailParts(t, m.Data)
	if !strings.Contains(m.Header.Get("Subject"), "bereits") || !strings.Contains(text, "Sie sind bereits angemeldet") ||
		!strings.Contains(text, base+"/preferences?t=") {
		t.Errorf("second mail: %q\n%s", m.Header.Get("Subject"), text)
	}
}

// TestE2E_ServeShutdownMidSend stops the daemon with SIGTERM while a message
// is held up by the SMTP server, starts it again, and checks that it exits 0
// and that every subscriber ends up with exactly one digest of the edition.
func TestE2E_ServeShutdownMidSend(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the binary; skipped with -short")
	}
	bin := buildBinary(t)
	smtp := smtptest.Start(t)
	release, held := make(chan struct{}), make(chan string, 1)
	smtp.FailData("slow@example.org", smtptest.Hold(release).OnHit(func(addr string) { held <- addr }).Times(1))
	dir := t.TempDir()
	now := time.Now()
	feedFile := filepath.Join(dir, "feed.rss")
	os.WriteFile(feedFile, []byte(feedRSS(now,
		[3]string{"sd-1", "Erfurt: Thüringen startet Bürgerportal", "Ein neues Portal."})), 0o644)
	env := append(os.Environ(),
		"DIGEST_DB="+storetest.SQLiteURL(t),
		"DIGEST_SMTP=smtp://"+smtp.Addr+"?tls=none",
		"DIGEST_FROM=Kommune21 Digest <digest@example.org>",
		"DIGEST_BASE_URL=https://digest.example.org",
		"DIGEST_SECRET=0123456789abcdef0123456789",
		"DIGEST_SCHEDULE=@every 2s",
		"DIGEST_SCHEDULE_DAILY=@every 1h",
	)
	runBinary(t, bin, env, "migrate")
	runBinary(t, bin, env, "articles", "import", feedFile, "--at", now.Add(-30*time.Minute).Format(time.RFC3339))
	// Deliveries go out in this order; one SQLite sender claims them all.
	rcpts := []string{"a@example.org", "b@example.org", "slow@example.org", "z@example.org"}
	for _, r := range rcpts {
		runBinary(t, bin, env, "subscribers", "add", r, "--confirmed")
	}

	d := startDaemon(t, bin, env)
	select {
	case <-held:
	case <-time.After(90 * time.Second):
		t.Fatal("slow@'s message never reached the server")
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the daemon to cancel its jobs", func() bool {
		return strings.Contains(d.log.String(), "running jobs cancelled")
	})
	close(release) // the relay answers the message in flight only now
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("daemon exited with %v after SIGTERM, want 0\n%s", err, d.log.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not exit after SIGTERM")
	}
	for r, want := range map[string]int{"a@example.org": 1, "b@example.org": 1, "slow@example.org": 1, "z@example.org": 0} {
		if n := len(messagesTo(smtp, r)); n != want {
			t.Errorf("after the shutdown mid-send %s has %d digests, want %d (the one in flight finishes, the next waits)", r, n, want)
		}
	}
	stats := runStats(t, bin, env)
	if stats.Sent != 3 || stats.Pending != 1 || stats.Retry != 0 || stats.Failed != 0 {
		t.Errorf("run after the shutdown = %+v; want 3 sent, 1 pending, no retry or failure", stats)
	}

	if strings.Contains(d.log.String(), "level=ERROR") {
		t.Errorf("errors logged by a graceful shutdown:\n%s", d.log.String())
	}
	d2 := startDaemon(t, bin, env)
	waitUntil(t, "z@'s digest", func() bool { return len(messagesTo(smtp, "z@example.org")) >= 1 })
	ticks := strings.Count(d2.log.String(), `msg="edition run finished" cadence=weekly`)
	waitUntil(t, "two more weekly ticks", func() bool {
		return strings.Count(d2.log.String(), `msg="edition run finished" cadence=weekly`) >= ticks+2
	})
	for _, r := range rcpts {
		if n := len(messagesTo(smtp, r)); n != 1 {
			t.Errorf("%s received %d digests of one edition, want 1", r, n)
		}
	}
}
