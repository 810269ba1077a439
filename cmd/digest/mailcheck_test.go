package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestMailcheck scores a real 30-article digest (600-character teasers) and
// the confirmation mail with mailpit's HTML check (caniemail data over the
// mail clients it tracks). It is opt-in: `make mailcheck`, or
// DIGEST_MAILCHECK=1 with mailpit on PATH, in $(go env GOPATH)/bin or at
// DIGEST_MAILPIT (go install github.com/axllent/mailpit@v1.33.1). Both mails
// go through the real binary to mailpit on loopback.
//
// It fails below minSupported % supported, or when a feature some client
// does not support at all is used other than as a harmless enhancement
// (enhancements below: the base layout does not need them).
func TestMailcheck(t *testing.T) {
	if os.Getenv("DIGEST_MAILCHECK") == "" {
		t.Skip("opt-in: run `make mailcheck` (needs mailpit, see the test's comment)")
	}
	mailpit := findMailpit(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	smtpAddr, httpAddr := freeAddr(t), freeAddr(t)
	mp := exec.Command(mailpit, "--smtp", smtpAddr, "--listen", httpAddr, "--disable-version-check", "--quiet",
		"--database", filepath.Join(dir, "mailpit.db"))
	mp.Stdout, mp.Stderr = os.Stderr, os.Stderr
	if err := mp.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	defer func() { mp.Process.Kill(); mp.Wait() }()
	api := "http://" + httpAddr + "/api/v1"
	waitUntil(t, "mailpit to answer", func() bool {
		resp, err := http.Get(api + "/messages")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})

	env := append(os.Environ(),
		"DIGEST_DB=sqlite:"+filepath.Join(dir, "digest.db"),
		"DIGEST_SMTP=smtp://"+smtpAddr+"?tls=none",
		"DIGEST_FROM=Kommune21 Digest <digest@kommune21.example>",
		"DIGEST_REPLY_TO=redaktion@kommune21.example",
		"DIGEST_BASE_URL=https://digest.kommune21.example",
		"DIGEST_SECRET=mc:mailcheck-0123456789abcdef",
		`DIGEST_IMPRINT=Kommune21 Redaktion\nMusterstraße 1\n12345 Musterstadt`,
		"DIGEST_LOG_LEVEL=warn",
	)
	at := time.Date(2026, 2, 20, 7, 0, 0, 0, time.UTC)
	feed := filepath.Join(dir, "feed.rss")
	if err := os.WriteFile(feed, []byte(mailcheckFeed(at, 30)), 0o644); err != nil {
		t.Fatal(err)
	}
	runBinary(t, bin, env, "migrate")
	runBinary(t, bin, env, "articles", "import", feed, "--at", at.Add(-time.Hour).Format(time.RFC3339))
	runBinary(t, bin, env, "subscribers", "add", "erika@example.org", "--name", "Erika Mustermann", "--confirmed")
	runBinary(t, bin, env, "run", "--at", at.Format(time.RFC3339))
	runBinary(t, bin, env, "subscribers", "add", "max@example.org", "--name", "Max Muster") // pending: the confirmation mail

	var list struct {
		Messages []struct{ ID, Subject string }
	}
	waitUntil(t, "two mails in mailpit", func() bool { return getJSON(t, api+"/messages", &list) && len(list.Messages) == 2 })
	for _, m := range list.Messages {
		name := "digest"
		if strings.HasPrefix(m.Subject, "Bitte bestätigen") {
			name = "confirm"
		}
		var check htmlCheck
		if !getJSON(t, api+"/message/"+m.ID+"/html-check", &check) {
			t.Fatalf("%s: html-check failed", name)
		}
		t.Logf("%s (%q): %.2f %% supported, %.2f %% partial, %.2f %% unsupported (%d nodes)",
			name, m.Subject, check.Total.Supported, check.Total.Partial, check.Total.Unsupported, check.Total.Nodes)
		for _, w := range check.top(8) {
			t.Logf("  %-24s found %3d  partial %5.1f %%  unsupported %5.1f %%  (weighted %.2f / %.2f)", w.Slug, w.Score.Found,
				w.Score.Partial, w.Score.Unsupported, w.weight(check.Total.Nodes, w.Score.Partial), w.weight(check.Total.Nodes, w.Score.Unsupported))
		}
		if check.Total.Supported < minSupported {
			t.Errorf("%s: %.2f %% supported, want at least %.0f %%", name, check.Total.Supported, minSupported)
		}
		for _, w := range check.Warnings {
			if w.Score.Found > 0 && w.Score.Unsupported > 0 && enhancements[w.Slug] == "" {
				t.Errorf("%s: uses %s (%s), which %.1f %% of clients do not support: make the layout work without it or, if it is a harmless enhancement, say why in enhancements",
					name, w.Slug, w.Title, w.Score.Unsupported)
			}
		}
	}
}

const minSupported = 92.0

// enhancements are the features some client lacks that the mails use on
// purpose, each with why a client without it still shows the mail right.
var enhancements = map[string]string{
	"html-body":           "every HTML document has a <body>; its styles only repeat the page table's background",
	"html-style":          "the <style> block holds only the phone and dark-scheme rules; everything else is inline",
	"css-at-media":        "phone padding and the dark scheme; the fluid table works without them",
	"css-display-none":    "preheader, which also has max-height 0, overflow hidden, 1px text in the background colour",
	"css-max-height":      "preheader (see css-display-none)",
	"css-overflow":        "preheader (see css-display-none)",
	"css-opacity":         "preheader (see css-display-none)",
	"css-max-width":       "the fluid container; Outlook for Windows gets a fixed 600 px table instead",
	"css-word-break":      "only lets the long confirmation URL wrap on phones",
	"css-text-decoration": "only removes the underline from the button, which is a filled box",
	"css-letter-spacing":  "contents heading",
	"css-text-transform":  "contents heading (upper case)",
}

type htmlCheck struct {
	Total struct {
		Nodes                           int
		Supported, Partial, Unsupported float64
	}
	Warnings []checkWarning
}

type checkWarning struct {
	Slug, Title string
	Score       struct {
		Found                           int
		Supported, Partial, Unsupported float64
	}
}

// weight is mailpit's: a feature counts by how many nodes use it.
func (w checkWarning) weight(nodes int, pct float64) float64 {
	return pct * float64(w.Score.Found) / float64(nodes)
}

func (c htmlCheck) top(n int) []checkWarning {
	ws := append([]checkWarning(nil), c.Warnings...)
	sort.SliceStable(ws, func(i, j int) bool {
		return ws[i].weight(c.Total.Nodes, ws[i].Score.Partial+ws[i].Score.Unsupported) > ws[j].weight(c.Total.Nodes, ws[j].Score.Partial+ws[j].Score.Unsupported)
	})
	return ws[:min(n, len(ws))]
}

func getJSON(t *testing.T, url string, v any) bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(v) == nil
}

func findMailpit(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DIGEST_MAILPIT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("mailpit not found: go install github.com/axllent/mailpit@v1.33.1, or set DIGEST_MAILPIT")
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// mailcheckFeed is an RSS feed of n articles as the portal writes them:
// "Kicker: Titel", teasers of over 600 characters (cut by the templates),
// categories naming several topics.
func mailcheckFeed(at time.Time, n int) string {
	places := []string{"Reutlingen", "Wiesbaden", "Magdeburg", "Rosenheim", "Halle (Saale)", "AKDB", "Studie", "GovTech Deutschland"}
	topics := []string{"OZG & Onlinedienste", "Registermodernisierung", "Cloud & IT-Infrastruktur", "IT-Sicherheit", "Smart City"}
	teaser := strings.Repeat("Die Kommune digitalisiert ihre Verwaltungsleistungen Schritt für Schritt und berichtet über Erfahrungen mit Bürgerinnen und Bürgern. ", 6)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Kommune21</title><link>https://www.kommune21.de/</link><description>Meldungen</description>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>%s: Meldung %d über digitale Verwaltung</title><link>https://www.kommune21.de/meldung_%d_digitale-verwaltung.html</link><guid isPermaLink="false">mc-%d</guid><pubDate>%s</pubDate><category>%s</category><description>%s</description></item>`,
			places[i%len(places)], i+1, 50000+i, i, at.Add(-time.Duration(i+2)*5*time.Hour).Format(time.RFC1123Z),
			strings.ReplaceAll(topics[i%len(topics)], "&", "&amp;"), teaser)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}
