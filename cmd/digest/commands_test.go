package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// TestDemo runs the README's first command: it exits 0, prints a table of who
// got how many articles in which file, and every file in the table is a
// digest to that subscriber listing that many articles.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	for round := range 2 { // a second demo replaces the first's files
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"demo", "--dir", dir}, envOf(map[string]string{}), nil, &out, &errOut)
		if err != nil {
			t.Fatalf("demo (round %d): %v\n%s\n%s", round, err, out.String(), errOut.String())
		}
		stdout := out.String()
		for _, want := range []string{"imported ", "added 6 subscribers", "EDITION", "SUBSCRIBER", "ARTICLES", "FILE", "digests written as .eml files"} {
			if !strings.Contains(stdout, want) {
				t.Fatalf("demo output lacks %q:\n%s", want, stdout)
			}
		}
		row := regexp.MustCompile(`(?m)^(\d{4}-W\d\d)\s+(\S+@example\.org)\s+(\d+)\s+(\S+\.eml)\s*$`)
		rows := row.FindAllStringSubmatch(stdout, -1)
		if len(rows) < 6 {
			t.Fatalf("%d digests in the table, want one per subscriber at least:\n%s", len(rows), stdout)
		}
		perEdition := map[string]map[string]bool{} // edition → local parts accounted for
		account := func(edition, local string) {
			if perEdition[edition] == nil {
				perEdition[edition] = map[string]bool{}
			}
			if perEdition[edition][local] {
				t.Errorf("%s appears twice in edition %s", local, edition)
			}
			perEdition[edition][local] = true
		}
		quiet := regexp.MustCompile(`(?m)^(\d{4}-W\d\d)\s+(\d+) more\s+0\s+nothing new, no email: (.+)$`)
		for _, q := range quiet.FindAllStringSubmatch(stdout, -1) {
			names := strings.Split(q[3], ", ")
			if n, _ := strconv.Atoi(q[2]); n != len(names) {
				t.Errorf("%q: %d more, but %d names", q[0], n, len(names))
			}
			for _, name := range names {
				account(q[1], strings.TrimSpace(name))
			}
		}
		// Erika chose everything: over the editions she gets every sample
		// article published since two weeks before the first edition, once.
		fresh := 0
		for _, m := range regexp.MustCompile(`(?m)^\s+\d+\s+(\d{4}-\d\d-\d\d)\s`).FindAllStringSubmatch(stdout, -1) {
			if m[1] > "2025-12-01" {
				fresh++
			}
		}
		erika := map[string]bool{}
		recipients := map[string]bool{}
		for _, r := range rows {
			edition, email, file := r[1], r[2], r[4]
			n, _ := strconv.Atoi(r[3])
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("table row %q: %v", r[0], err)
			}
			m, err := mail.ReadMessage(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if to, _ := mail.ParseAddress(m.Header.Get("To")); to == nil || to.Address != email {
				t.Errorf("%s goes to %q, the table says %s", file, m.Header.Get("To"), email)
			}
			week := strings.TrimLeft(edition[len("2026-W"):], "0")
			if subj := decodeSubject(m.Header.Get("Subject")); !strings.Contains(subj, "KW "+week+":") {
				t.Errorf("%s: subject %q is not of edition %s", file, subj, edition)
			}
			text, _ := mailParts(t, data)
			links := regexp.MustCompile(`(?m)^<(https?://[^>]+/meldung[^>]*)>\r?$`).FindAllStringSubmatch(text, -1)
			if len(links) != n {
				t.Errorf("%s lists %d articles, the table says %d", file, len(links), n)
			}
			if strings.HasPrefix(email, "erika.") {
				for _, l := range links {
					if erika[l[1]] {
						t.Errorf("Erika got %s twice", l[1])
					}
					erika[l[1]] = true
				}
			}
			recipients[email] = true
			account(edition, strings.SplitN(email, "@", 2)[0])
		}
		if len(recipients) < 5 {
			t.Errorf("%d subscribers got a digest", len(recipients))
		}
		if len(perEdition) != 11 {
			t.Errorf("%d weekly editions in the table, want 11 (2025-W51 to 2026-W09)", len(perEdition))
		}
		for edition, locals := range perEdition {
			if len(locals) != 6 {
				t.Errorf("edition %s accounts for %d subscribers, want 6", edition, len(locals))
			}
		}
		if fresh < 10 || len(erika) != fresh {
			t.Errorf("Erika got %d distinct articles over the editions, want the %d fresh ones", len(erika), fresh)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
		if len(files) != len(rows) {
			t.Errorf("%d .eml files in the outbox, %d in the table", len(files), len(rows))
		}
		if want := fmt.Sprintf("\n%d digests written", len(rows)); !strings.Contains(stdout, want) {
			t.Errorf("summary does not say %q", want)
		}
	}
}

func decodeSubject(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// previewSetup imports two articles (Thüringen, Hessen) and adds subscribers.
func previewSetup(t *testing.T, c *cli, at time.Time) {
	t.Helper()
	feed := c.file("feed.rss", feedRSS(at,
		[3]string{"p-1", "Erfurt: Thüringen startet Bürgerportal", "Ein neues Portal für Thüringen."},
		[3]string{"p-2", "Wiesbaden: Hessen digitalisiert Bauanträge", "Bauanträge in Hessen online."}))
	c.ok("articles", "import", feed, "--at", at.Add(-time.Hour).Format(time.RFC3339))
	c.ok("subscribers", "add", "th@example.org", "--name", "Thea", "--region", "DE-TH", "--confirmed")
	c.ok("subscribers", "add", "alle@example.org", "--confirmed")
	c.ok("subscribers", "add", "by@example.org", "--region", "DE-BY", "--confirmed")
	c.ok("subscribers", "add", "wartet@example.org", "--region", "DE-HE")
	c.ok("subscribers", "add", "daily@example.org", "--region", "DE-HE", "--cadence", "daily", "--confirmed")
}

// TestPreviewCommand: preview plans one subscriber alone, records and sends
// nothing, and shows what the edition then delivers.
func TestPreviewCommand(t *testing.T) {
	at := time.Date(2026, 2, 23, 7, 0, 0, 0, time.UTC)
	eachCLI(t, func(t *testing.T, c *cli) {
		previewSetup(t, c, at)
		when := at.Format(time.RFC3339)
		th := c.ok("preview", "th@example.org", "--at", when)
		if !strings.HasPrefix(th, "Subject: Wochenüberblick KW 9: 1 neuer Artikel aus Thüringen\n") ||
			!strings.Contains(th, "Guten Tag, Thea,") || !strings.Contains(th, "Bürgerportal") || strings.Contains(th, "Bauanträge") {
			t.Errorf("preview of th@:\n%s", th)
		}
		alle := c.ok("preview", "alle@example.org", "--at", when)
		if !strings.Contains(alle, "2 neue Artikel") || !strings.Contains(alle, "Bürgerportal") || !strings.Contains(alle, "Bauanträge") {
			t.Errorf("preview of alle@:\n%s", alle)
		}
		if out := c.ok("preview", "by@example.org", "--at", when); !strings.Contains(out, "nothing new for by@example.org in weekly edition 2026-W09: no email would be sent") {
			t.Errorf("preview of by@: %s", out)
		}
		// A pending subscriber: what they would get once active, with a note.
		out, errOut, code := c.run("", "preview", "wartet@example.org", "--at", when)
		if code != 0 || !strings.Contains(out, "Bauanträge") || !strings.Contains(errOut, "status pending") {
			t.Errorf("preview of a pending subscriber: %d\n%s\n%s", code, out, errOut)
		}
		// A daily subscriber is previewed in the daily edition.
		out, _, _ = c.run("", "preview", "daily@example.org", "--at", when)
		if !strings.Contains(out, "Tagesüberblick") || !strings.Contains(out, "Bauanträge") {
			t.Errorf("preview of daily@:\n%s", out)
		}
		eml := filepath.Join(c.dir, "th.eml")
		_, errOut, code = c.run("", "preview", "th@example.org", "--at", when, "--format", "eml", "-o", eml)
		if code != 0 || !strings.Contains(errOut, "weekly edition 2026-W09 for th@example.org: 1 articles") {
			t.Errorf("preview -o: %d %s", code, errOut)
		}
		if data, err := os.ReadFile(eml); err != nil || !bytes.Contains(data, []byte("To: \"Thea\" <th@example.org>")) && !bytes.Contains(data, []byte("To: Thea <th@example.org>")) {
			t.Errorf("preview --format eml wrote %q, %v", firstLines(data, 12), err)
		}
		c.fail(1, "preview", "niemand@example.org", "--at", when)

		// Nothing was recorded or sent.
		if runs := c.ok("runs", "list", "--json"); strings.TrimSpace(runs) != "[]" {
			t.Fatalf("preview left runs: %s", runs)
		}
		if files, _ := filepath.Glob(filepath.Join(c.dir, "outbox", "r*.eml")); len(files) != 0 {
			t.Fatalf("preview wrote mail: %v", files)
		}
		// The edition sends what the previews showed; a preview now reads the plan.
		c.ok("run", "--at", when)
		// Only a planned digest has a browser view: the preview now links to it.
		again := c.ok("preview", "th@example.org", "--at", when)
		if !strings.Contains(again, "Im Browser ansehen:") {
			t.Errorf("preview after the run has no browser-view link:\n%s", again)
		}
		if again = regexp.MustCompile(`\n\nIm Browser ansehen:\n<[^>]+>`).ReplaceAllString(again, ""); again != th {
			t.Errorf("preview after the run:\n%s\nbefore:\n%s", again, th)
		}
		files, _ := filepath.Glob(filepath.Join(c.dir, "outbox", "r*.eml"))
		if len(files) != 2 {
			t.Fatalf("the edition wrote %d messages, want 2 (th@, alle@)", len(files))
		}
	})
}

func firstLines(b []byte, n int) string {
	lines := strings.SplitN(string(b), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// TestRunsCommands: runs list and runs show, as text and JSON, after an
// edition with a sent, a retrying and a failed delivery.
func TestRunsCommands(t *testing.T) {
	at := time.Date(2026, 2, 23, 7, 0, 0, 0, time.UTC)
	eachCLI(t, func(t *testing.T, c *cli) {
		if errOut := c.fail(1, "runs", "show"); !strings.Contains(errOut, "no run yet; start one with `digest run`") {
			t.Errorf("runs show without runs: %s", errOut)
		}
		if out := c.ok("runs", "list"); strings.TrimSpace(out) != "ID  CADENCE  EDITION  AT  PLANNED  SENT  RETRY  FAILED  SKIPPED  PENDING" {
			t.Errorf("runs list without runs: %q", out)
		}
		srv := smtptest.Start(t)
		srv.FailRcpt("alle@example.org", smtptest.Temporary(1))
		srv.FailRcpt("th@example.org", smtptest.Reject(554, "5.7.1", "rejected by policy"))
		c.env["DIGEST_SMTP"] = "smtp://" + srv.Addr + "?tls=none"
		previewSetup(t, c, at)
		c.ok("subscribers", "add", "he@example.org", "--region", "DE-HE", "--confirmed")
		out := c.ok("run", "--at", at.Format(time.RFC3339))
		for _, want := range []string{
			"planned weekly edition 2026-W09 (run 1): 4 new deliveries in 4 selections, 1 with nothing new",
			"sent 1, retry 1, failed 1, skipped 0 in ",
			"next retry due 2026-02-23T08:05:00+01:00",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("digest run output lacks %q:\n%s", want, out)
			}
		}
		c.ok("run", "--cadence", "daily", "--at", at.Format(time.RFC3339))

		list := c.ok("runs", "list")
		wantList := []string{
			`ID\s+CADENCE\s+EDITION\s+AT\s+PLANNED\s+SENT\s+RETRY\s+FAILED\s+SKIPPED\s+PENDING`,
			`2\s+daily\s+2026-02-23\s+2026-02-23 08:00\s+1\s+1\s+0\s+0\s+0\s+0`,
			`1\s+weekly\s+2026-W09\s+2026-02-23 08:00\s+4\s+1\s+1\s+1\s+1\s+0`,
		}
		lines := strings.Split(strings.TrimSpace(list), "\n")
		if len(lines) != len(wantList) {
			t.Fatalf("runs list:\n%s", list)
		}
		for i, w := range wantList {
			if !regexp.MustCompile("^" + w + "$").MatchString(strings.TrimSpace(lines[i])) {
				t.Errorf("runs list line %d = %q, want %s", i, lines[i], w)
			}
		}
		var runs []runJSON
		if err := json.Unmarshal([]byte(c.ok("runs", "list", "--json")), &runs); err != nil || len(runs) != 2 {
			t.Fatalf("runs list --json: %v %+v", err, runs)
		}
		if r := runs[1]; r.ID != 1 || r.Cadence != "weekly" || r.Edition != "2026-W09" || r.At != "2026-02-23T07:00:00Z" ||
			r.Planned != 4 || r.Sent != 1 || r.Retry != 1 || r.Failed != 1 || r.Skipped != 1 || r.Pending != 0 || r.Finished != "" {
			t.Errorf("runs list --json [1] = %+v", r)
		}
		if r := runs[0]; r.Cadence != "daily" || r.Sent != 1 || r.Finished == "" {
			t.Errorf("runs list --json [0] = %+v", r)
		}

		show := c.ok("runs", "show", "1")
		for _, want := range []string{
			"run 1: weekly edition 2026-W09 at 2026-02-23T08:00:00+01:00\n",
			"not finished: deliveries are pending or waiting for retry\n",
			"planned 4: sent 1, retry 1, failed 1, skipped 1, pending 0\n",
		} {
			if !strings.Contains(show, want) {
				t.Errorf("runs show 1 lacks %q:\n%s", want, show)
			}
		}
		// The skipped delivery had nothing to send: it is counted but not a reason.
		if !regexp.MustCompile(`(?m)^COUNT\s+STATUS\s+REASON\n1\s+failed\s+.*554.*5\.7\.1.*\n1\s+retry\s+.*451.*\n?$`).MatchString(show[strings.Index(show, "COUNT"):]) {
			t.Errorf("runs show 1 reasons:\n%s", show)
		}
		if latest := c.ok("runs", "show"); !strings.HasPrefix(latest, "run 2: daily edition 2026-02-23 at ") || !strings.Contains(latest, "\nfinished 2026-02-23T08:00:00+01:00\n") {
			t.Errorf("runs show (latest):\n%s", latest)
		}
		var one runJSON
		if err := json.Unmarshal([]byte(c.ok("runs", "show", "1", "--json")), &one); err != nil {
			t.Fatal(err)
		}
		if one.Sent != 1 || one.Retry != 1 || one.Failed != 1 || len(one.Errors) != 2 ||
			one.Errors[0].Status != "failed" || !strings.Contains(one.Errors[0].Reason, "5.7.1") || one.Errors[0].Count != 1 ||
			one.Errors[1].Status != "retry" || !strings.Contains(one.Errors[1].Reason, "451") {
			t.Errorf("runs show 1 --json = %+v", one)
		}
		if errOut := c.fail(1, "runs", "show", "99"); !strings.Contains(errOut, "no such run with id 99; see `digest runs list`") {
			t.Errorf("runs show 99: %s", errOut)
		}
		if errOut := c.fail(2, "runs", "show", "eins"); !strings.Contains(errOut, `run ID "eins" is not a number`) {
			t.Errorf("runs show eins: %s", errOut)
		}
	})
}

// TestServe_BackgroundJobs starts the daemon as `digest serve` wires it, with
// the retry job every second instead of every 5 minutes: at start it prunes
// the sent log of editions older than 8 weeks (their counts stay), and the
// retry job sends a due retry of the current edition without a new run.
func TestServe_BackgroundJobs(t *testing.T) {
	storetestEach(t, func(t *testing.T, dbURL string) {
		now := time.Now()
		srv := smtptest.Start(t)
		c := newCLI(t, dbURL)
		c.env["DIGEST_SMTP"] = "smtp://" + srv.Addr + "?tls=none"
		c.env["DIGEST_SECRET"] = "0123456789abcdef0123"
		c.env["DIGEST_SCHEDULE"], c.env["DIGEST_SCHEDULE_DAILY"] = "@every 1h", "@every 1h"
		c.ok("subscribers", "add", "a@example.org", "--confirmed")
		c.ok("subscribers", "add", "b@example.org", "--confirmed")
		edition := func(i int, at time.Time) {
			feed := c.file(fmt.Sprintf("feed%d.rss", i), feedRSS(at, [3]string{fmt.Sprintf("bg-%d", i), fmt.Sprintf("Erfurt: Meldung %d", i), "Text."}))
			c.ok("articles", "import", feed, "--at", at.Add(-time.Minute).Format(time.RFC3339))
			c.ok("run", "--at", at.Format(time.RFC3339))
		}
		edition(1, now.Add(-9*7*24*time.Hour)) // older than 8 weeks: pruned
		edition(2, now.Add(-7*7*24*time.Hour)) // kept
		srv.FailRcpt("b@example.org", smtptest.Temporary(1))
		edition(3, now.Add(-10*time.Minute)) // b@'s retry was due 5 minutes ago
		if n := len(messagesTo(srv, "b@example.org")); n != 2 {
			t.Fatalf("b@ has %d digests before the daemon, want 2", n)
		}

		db, err := store.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		sentLog := func(run int) int {
			var n int
			if err := db.GetContext(context.Background(), &n, db.Rebind(`SELECT COALESCE(SUM(`+db.IDsLen("s.article_ids")+`), 0) FROM selections s WHERE s.run_id = ?`), run); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if sentLog(1) == 0 || sentLog(2) == 0 {
			t.Fatal("editions hold no articles")
		}

		a := testApp(t, c.env)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var logs syncBuffer
		a.ctx, a.log = ctx, slog.New(slog.NewTextHandler(&logs, nil))
		a.taskEvery = map[string]time.Duration{"resume": time.Second}
		done := make(chan error, 1)
		go func() { done <- cmdServe(a, []string{"--addr", "127.0.0.1:0"}) }()
		waitUntil(t, "b@'s retry", func() bool { return len(messagesTo(srv, "b@example.org")) == 3 })
		// The message arrives before its outcome is written: wait for the log
		// line of the finished resume, not only for the mail.
		waitUntil(t, "the resume recorded", func() bool {
			return regexp.MustCompile(`msg=resumed run=3 .*sent=1 retry=0 failed=0`).MatchString(logs.String())
		})
		waitUntil(t, "the prune", func() bool { return strings.Contains(logs.String(), `msg="pruned the sent log"`) })
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v\n%s", err, logs.String())
		}
		if !regexp.MustCompile(`msg=resumed run=3 .*sent=1 retry=0 failed=0`).MatchString(logs.String()) {
			t.Errorf("no resume of run 3 in the log:\n%s", logs.String())
		}
		if sentLog(1) != 0 || sentLog(2) == 0 {
			t.Errorf("sent log after the prune: run 1 has %d articles (want 0), run 2 %d (want all)", sentLog(1), sentLog(2))
		}
		for id, want := range map[string]int{"1": 2, "3": 2} {
			var r runJSON
			json.Unmarshal([]byte(c.ok("runs", "show", id, "--json")), &r)
			if r.Sent != want || r.Retry != 0 || r.Finished == "" {
				t.Errorf("run %s after the daemon = %+v; want %d sent, finished", id, r, want)
			}
		}
		if n := len(messagesTo(srv, "a@example.org")); n != 3 {
			t.Errorf("a@ has %d digests, want 3 (one per edition, nothing twice)", n)
		}
	})
}

func storetestEach(t *testing.T, fn func(t *testing.T, dbURL string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresURL(t)) })
}
