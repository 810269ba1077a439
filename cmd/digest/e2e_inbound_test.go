package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/imaptest"
	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store/storetest"
)

// TestE2E_ReturnedMail sends a run through the real binary with a VERP return
// path, then lets returned mail come back: a DSN for one delivery, a
// complaint for another, an unsubscribe mail, an auto-reply and a forged DSN.
// On SQLite the daemon reads them from a real IMAP server on loopback; on
// PostgreSQL `digest mail import` reads the same mails from files. Either
// way the bounced, complaining and unsubscribing subscribers get no further
// edition, the forged report changes nothing, and `runs show` counts it all.
func TestE2E_ReturnedMail(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the binary; skipped with -short")
	}
	bin := buildBinary(t)
	t.Run("sqlite/serve", func(t *testing.T) { e2eReturnedMail(t, bin, storetest.SQLiteURL(t), true) })
	t.Run("postgres/import", func(t *testing.T) { e2eReturnedMail(t, bin, storetest.PostgresURL(t), false) })
}

var verpRE = regexp.MustCompile(`^bounces\+r(\d+)\.d(\d+)\.([a-z2-7]{8})@kommune21\.example$`)

func e2eReturnedMail(t *testing.T, bin, dbURL string, serve bool) {
	srv := smtptest.Start(t)
	env := append(e2eRunEnv(dbURL, srv), "DIGEST_RETURN_PATH=bounces@kommune21.example")
	e2eSetup(t, bin, env, 4)
	runBinary(t, bin, env, "run", "--at", e2eAt)

	// Every digest went out with its own VERP envelope sender and a mailto
	// that carries the subscriber's token.
	envFrom, msgID := map[string]string{}, map[string]string{}
	for _, m := range srv.Messages() {
		if !verpRE.MatchString(m.From) {
			t.Fatalf("envelope sender %q is not a VERP address", m.From)
		}
		if lu := m.Header.Get("List-Unsubscribe"); !regexp.MustCompile(`<mailto:digest@kommune21\.example\?subject=Abmelden%20[0-9a-z]+\.[A-Za-z0-9_-]+>`).MatchString(lu) {
			t.Errorf("List-Unsubscribe %q lacks the mailto with a token", lu)
		}
		envFrom[m.To[0]], msgID[m.To[0]] = m.From, strings.Trim(m.Header.Get("Message-Id"), "<>")
	}
	if len(envFrom) != 4 {
		t.Fatalf("%d digests sent, want 4", len(envFrom))
	}
	bounced, complained, leaving, staying := "leser0000@example.org", "leser0001@example.org", "leser0002@example.org", "leser0003@example.org"

	// A forged DSN for a subscriber: a made-up tag and another delivery's Message-ID.
	forgedVERP := verpRE.ReplaceAllString(envFrom[staying], "bounces+r$1.d$2.aaaaaaaa@kommune21.example")
	mails := map[string]string{
		"1-dsn.eml":       e2eDSN(envFrom[bounced], msgID[bounced], bounced),
		"2-complaint.eml": e2eARF(envFrom[complained], msgID[complained]),
		"3-unsub.eml": "From: Leser 2 <" + leaving + ">\r\nTo: digest@kommune21.example\r\nSubject: Abmelden\r\n" +
			"Message-ID: <unsub-e2e@example.org>\r\nDate: Mon, 23 Feb 2026 09:00:00 +0100\r\n\r\nBitte abmelden.\r\n",
		"4-ooo.eml": "From: " + staying + "\r\nTo: digest@kommune21.example\r\nSubject: Abwesenheitsnotiz: Wochenüberblick\r\n" +
			"Auto-Submitted: auto-replied\r\nMessage-ID: <ooo-e2e@example.org>\r\n\r\nBin im Urlaub. Bitte nicht abmelden.\r\n",
		"5-forged.eml": e2eDSN(forgedVERP, msgID[leaving], staying),
	}

	if serve {
		imap := imaptest.Start(t)
		for _, name := range []string{"1-dsn.eml", "2-complaint.eml", "3-unsub.eml", "4-ooo.eml", "5-forged.eml"} {
			imap.Append("INBOX", []byte(mails[name]))
		}
		denv := append(env, "DIGEST_MAILBOX="+imap.URL(), "DIGEST_MAILBOX_INTERVAL=1s", "DIGEST_METRICS_ADDR=127.0.0.1:0",
			"DIGEST_SCHEDULE=@every 1000h", "DIGEST_SCHEDULE_DAILY=@every 1000h", "DIGEST_LOG_LEVEL=info")
		d := startDaemon(t, bin, denv)
		waitUntil(t, "the daemon to empty the mailbox", func() bool {
			return len(imap.Messages("INBOX")) == 0 && len(imap.Messages("digest/handled"))+len(imap.Messages("digest/unmatched")) == 5
		})
		if h, u := len(imap.Messages("digest/handled")), imap.Messages("digest/unmatched"); h != 4 || len(u) != 1 || !strings.Contains(string(u[0]), "aaaaaaaa") {
			t.Errorf("digest/handled has %d mails, digest/unmatched %d (want 4 and the forged one)", h, len(u))
		}
		m := regexp.MustCompile(`msg="serving metrics" addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(d.log.String())
		if m == nil {
			t.Fatalf("no metrics listener in the log:\n%s", d.log.String())
		}
		res, err := http.Get("http://" + m[1] + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{`digest_bounces_total{severity="hard"} 1`, "digest_complaints_total 1", "digest_unmatched_mails_total 1",
			`digest_subscribers{status="bounced"} 1`, `digest_subscribers{status="unsubscribed"} 2`, "digest_queue_depth 0", `digest_last_run_finished{cadence="weekly"} 1`} {
			if !strings.Contains(string(body), want+"\n") {
				t.Errorf("/metrics lacks %q:\n%s", want, body)
			}
		}
		if res, err := http.Get("http://" + d.addr + "/metrics"); err == nil && res.StatusCode == http.StatusOK {
			t.Error("/metrics is served on the public listener")
		}
		d.cmd.Process.Signal(syscall.SIGTERM)
		<-d.done
		for _, secret := range []string{imap.Password, url.QueryEscape(imap.Password), "w%2Frd"} {
			if strings.Contains(d.log.String(), secret) {
				t.Errorf("the daemon log shows the mailbox password (%q)", secret)
			}
		}
	} else {
		dir := t.TempDir()
		for name, raw := range mails {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(raw), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var res []mailResultJSON
		if err := json.Unmarshal([]byte(runBinary(t, bin, env, "mail", "import", dir, "--json")), &res); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range res {
			got[filepath.Base(r.Source)] = r.Outcome + "/" + r.Change
		}
		want := map[string]string{"1-dsn.eml": "applied/bounced", "2-complaint.eml": "applied/unsubscribed", "3-unsub.eml": "applied/unsubscribed",
			"4-ooo.eml": "ignored/", "5-forged.eml": "unmatched/"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s, want %s", k, got[k], v)
			}
		}
		again := runBinary(t, bin, env, "mail", "import", dir)
		if !strings.Contains(again, "5 mails: 0 applied") || !strings.Contains(again, "(5 seen before)") {
			t.Errorf("second import:\n%s", again)
		}
		list := runBinary(t, bin, env, "mail", "list", "--unmatched")
		if !strings.Contains(list, "does not verify") || strings.Count(list, "\n") != 2 {
			t.Errorf("mail list --unmatched:\n%s", list)
		}
	}

	var subs []jsonSub
	if err := json.Unmarshal([]byte(runBinary(t, bin, env, "subscribers", "list", "--json")), &subs); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range subs {
		status[s.Email] = s.Status
	}
	for addr, want := range map[string]string{bounced: "bounced", complained: "unsubscribed", leaving: "unsubscribed", staying: "active"} {
		if status[addr] != want {
			t.Errorf("%s is %s, want %s", addr, status[addr], want)
		}
	}
	show := runBinary(t, bin, env, "subscribers", "show", bounced)
	if !strings.Contains(show, "Status reason:") || !strings.Contains(show, "bounce 5.1.1") || !strings.Contains(show, "Last bounce/complaint:") {
		t.Errorf("subscribers show %s:\n%s", bounced, show)
	}
	if show := runBinary(t, bin, env, "subscribers", "show", complained); !strings.Contains(show, "complaint") {
		t.Errorf("subscribers show %s:\n%s", complained, show)
	}

	// Run 1 is the edition sent above (the daemon may have caught up others since).
	var r runJSON
	if err := json.Unmarshal([]byte(runBinary(t, bin, env, "runs", "show", "1", "--json")), &r); err != nil {
		t.Fatal(err)
	}
	if d := r.Deliverability; d == nil || d.Sent != 4 || d.Bounced != 1 || d.Complained != 1 || d.UnsubscribedAfter != 2 || d.ComplaintRate != 0.25 {
		t.Errorf("runs show deliverability %+v", r.Deliverability)
	}
	if text := runBinary(t, bin, env, "runs", "show", "1"); !strings.Contains(text, "after sending: bounced 1 (25.00 %), soft bounces 0, complaints 1 (25.00 %), unsubscribed 2 (50.00 %)") {
		t.Errorf("runs show:\n%s", text)
	}

	// The next edition reaches only the subscriber who stayed.
	next := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	feed := filepath.Join(t.TempDir(), "next.rss")
	os.WriteFile(feed, []byte(feedRSS(next, [3]string{"next-1", "Erfurt: Neues Portal", "Die Stadt schaltet ein Portal frei."})), 0o644)
	runBinary(t, bin, env, "articles", "import", feed, "--at", next.Format(time.RFC3339))
	before := srv.Count()
	runBinary(t, bin, env, "run", "--at", "2026-03-02T07:00:00+01:00")
	var to []string
	for _, m := range srv.Messages()[before:] {
		to = append(to, m.To...)
	}
	if len(to) != 1 || to[0] != staying {
		t.Errorf("next edition went to %v, want only %s", to, staying)
	}
}

func e2eDSN(envTo, origMsgID, rcpt string) string {
	return fmt.Sprintf("Return-Path: <>\r\nFrom: MAILER-DAEMON@relay.example (Mail Delivery System)\r\nTo: %s\r\n"+
		"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-%d@relay.example>\r\nDate: Mon, 23 Feb 2026 07:30:00 +0100\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\r\n\r\n"+
		"--dsn\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"+
		"--dsn\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n\r\n"+
		"Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"+
		"--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <%s>\r\nFrom: Kommune21 Digest <digest@kommune21.example>\r\nTo: %s\r\n\r\n--dsn--\r\n",
		envTo, len(envTo)+len(rcpt), rcpt, origMsgID, rcpt)
}

func e2eARF(origMailFrom, origMsgID string) string {
	return "From: fbl@isp.example\r\nTo: bounces@kommune21.example\r\nSubject: Abuse report\r\nMessage-ID: <arf-e2e@isp.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"arf\"\r\n\r\n" +
		"--arf\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n\r\n" +
		"--arf\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\nOriginal-Mail-From: <" + origMailFrom + ">\r\n\r\n" +
		"--arf\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <" + origMsgID + ">\r\nTo: redacted@isp.example\r\n\r\n--arf--\r\n"
}
