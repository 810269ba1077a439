package archive_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/archive"
	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

const base = "https://digest.kommune21.example"

var at = time.Date(2026, 2, 23, 7, 0, 0, 0, time.UTC)

// A real edition is planned and sent over SMTP on loopback, then the links in
// the received mails are followed through the real subscriber handler.
func TestArchive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		article := func(id int, title, region string) {
			exec(`INSERT INTO articles (id, key, url, title, kicker, teaser, published_at, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, fmt.Sprint("k", id), fmt.Sprint("https://www.kommune21.de/meldung_", id, ".html"), title, "Kicker", "Teaser von "+title,
				store.T(at.Add(-48*time.Hour)), store.T(at.Add(-24*time.Hour)), store.T(at.Add(-24*time.Hour)))
			exec(`INSERT INTO article_regions (article_id, region_code) VALUES (?, ?)`, id, region)
		}
		article(1, "Thüringer Bürgerportal", "DE-TH")
		article(2, "Bayerische Bauanträge", "DE-BY")
		subscriber := func(email, name, region string) {
			var id int64
			if err := db.GetContext(ctx, &id, db.Rebind(`INSERT INTO subscribers (email, email_key, name, status, cadence, created_at, updated_at)
				VALUES (?, ?, ?, 'active', 'weekly', ?, ?) RETURNING id`), email, email, name, store.T(at.Add(-time.Hour)), store.T(at.Add(-time.Hour))); err != nil {
				t.Fatal(err)
			}
			exec(`INSERT INTO subscriber_regions (subscriber_id, region_code) VALUES (?, ?)`, id, region)
		}
		subscriber("anna@example.org", "Anna Beispiel", "DE-TH")
		subscriber("jan@example.org", "Jan Muster", "DE-TH") // same choices: same selection as anna
		subscriber("bert@example.org", "Bert Bayer", "DE-BY")

		signer, err := subscribers.NewSigner("k1:archive-test-0123456789")
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := templates.New(templates.Site{Name: "Kommune21 Digest", PortalURL: "https://www.kommune21.de", ReplyTo: "redaktion@kommune21.example"})
		if err != nil {
			t.Fatal(err)
		}
		srv := smtptest.Start(t)
		cfg, err := mailer.ParseURL(fmt.Sprintf("smtp://%s?tls=none", srv.Addr))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := mailer.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		clk := func() time.Time { return at }
		r := &digest.Runner{Planner: &digest.Planner{DB: db, Now: clk}, Sender: &digest.Sender{DB: db, Templates: tmpl, Transport: tr,
			Links: subscribers.Links{Signer: signer, Base: base}, Now: clk,
			Message: digest.MessageOptions{From: mail.Address{Name: "Kommune21 Digest", Address: "digest@kommune21.example"}, Domain: "kommune21.example"}}}
		if _, err := r.Run(ctx, digest.Weekly, at, false); err != nil {
			t.Fatal(err)
		}

		pages, err := templates.NewPages()
		if err != nil {
			t.Fatal(err)
		}
		h, err := subscribers.NewHandler(subscribers.HandlerDeps{Store: subscribers.NewStore(db, clk), Taxonomy: taxonomy.NewStore(db), DB: db,
			Signer: signer, Pages: pages, Site: "Kommune21 Digest", Burst: 1000, Rate: 1000,
			Routes: map[string]http.Handler{"GET " + archive.Path: &archive.Handler{DB: db, Templates: tmpl, Signer: signer, Pages: pages, Site: "Kommune21 Digest"}}})
		if err != nil {
			t.Fatal(err)
		}
		web := httptest.NewServer(h)
		defer web.Close()
		get := func(link string) (int, http.Header, string) {
			t.Helper()
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get(web.URL + u.RequestURI())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header, string(b)
		}

		mails := map[string]string{} // recipient → HTML part
		for _, m := range srv.Messages() {
			mails[m.To[0]] = htmlPart(t, m.Data)
		}
		if len(mails) != 3 {
			t.Fatalf("%d mails sent, want 3", len(mails))
		}
		linkRe := regexp.MustCompile(`href="(` + regexp.QuoteMeta(base) + `/archive\?t=[^"]+)"[^>]*>Im Browser ansehen<`)
		link := map[string]string{}
		for to, html := range mails {
			m := linkRe.FindStringSubmatch(html)
			if m == nil {
				t.Fatalf("mail to %s has no \"Im Browser ansehen\" link:\n%s", to, html)
			}
			link[to] = m[1]
		}
		if link["anna@example.org"] != link["jan@example.org"] || link["anna@example.org"] == link["bert@example.org"] {
			t.Errorf("browser view links: anna %s, jan %s, bert %s: want one per selection", link["anna@example.org"], link["jan@example.org"], link["bert@example.org"])
		}

		t.Run("OK", func(t *testing.T) {
			code, hd, page := get(link["anna@example.org"])
			if code != 200 {
				t.Fatalf("GET %s = %d\n%s", link["anna@example.org"], code, page)
			}
			if !strings.Contains(page, "Thüringer Bürgerportal") || strings.Contains(page, "Bayerische Bauanträge") {
				t.Errorf("browser view does not show exactly anna's articles:\n%s", page)
			}
			for _, personal := range []string{"anna@example.org", "Anna", "jan@", "Jan Muster", "/unsubscribe", "/preferences", "/archive", "Guten Tag"} {
				if strings.Contains(page, personal) {
					t.Errorf("browser view shows %q", personal)
				}
			}
			if hd.Get("Referrer-Policy") != "no-referrer" || hd.Get("X-Robots-Tag") != "noindex" {
				t.Errorf("headers %v: want no referrer (the token is in the URL) and noindex", hd)
			}
			if _, _, bert := get(link["bert@example.org"]); !strings.Contains(bert, "Bayerische Bauanträge") || strings.Contains(bert, "Thüringer Bürgerportal") {
				t.Errorf("bert's browser view:\n%s", bert)
			}
		})
		t.Run("ForgedOrOtherPurpose", func(t *testing.T) {
			good := link["anna@example.org"]
			tok := good[strings.Index(good, "t=")+2:]
			unsub := regexp.MustCompile(`href="` + regexp.QuoteMeta(base) + `/unsubscribe\?t=([^"]+)"`).FindStringSubmatch(mails["anna@example.org"])[1]
			other, _ := subscribers.NewSigner("k1:another-key-0123456789")
			flipped := []byte(tok)
			if flipped[len(flipped)-1] == 'A' {
				flipped[len(flipped)-1] = 'B'
			} else {
				flipped[len(flipped)-1] = 'A'
			}
			for _, tt := range []struct {
				name, token string
				want        int
			}{
				{"missing", "", http.StatusBadRequest},
				{"garbled", tok[:len(tok)-2], http.StatusNotFound},
				{"flipped", string(flipped), http.StatusNotFound},
				{"other key", strings.TrimPrefix(other.ArchiveURL("", 1), "/archive?t="), http.StatusNotFound},
				{"unsubscribe token", unsub, http.StatusForbidden},
			} {
				code, _, page := get(base + "/archive?t=" + tt.token)
				if code != tt.want {
					t.Errorf("%s token: %d, want %d", tt.name, code, tt.want)
				}
				if strings.Contains(page, "Bürgerportal") {
					t.Errorf("%s token shows the digest", tt.name)
				}
			}
			// An archive token is no unsubscribe token either.
			resp, err := http.PostForm(web.URL+"/unsubscribe?t="+tok, url.Values{})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("POST /unsubscribe with an archive token = %d, want 400", resp.StatusCode)
			}
		})
		t.Run("NeverSentOrPruned", func(t *testing.T) {
			var unsent int64
			if err := db.GetContext(ctx, &unsent, `SELECT COALESCE(MAX(id), 0) + 1 FROM selections`); err != nil {
				t.Fatal(err)
			}
			if code, _, _ := get(signer.ArchiveURL(base, unsent)); code != http.StatusNotFound {
				t.Errorf("a selection that does not exist: %d, want 404", code)
			}
			exec(`UPDATE deliveries SET status = 'pending' WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'bert@example.org')`)
			if code, _, page := get(link["bert@example.org"]); code != http.StatusNotFound || !strings.Contains(page, "nicht verfügbar") {
				t.Errorf("a selection never sent: %d, want 404\n%s", code, page)
			}
			if _, err := digest.PruneSentLog(ctx, db, at.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if code, _, _ := get(link["anna@example.org"]); code != http.StatusNotFound {
				t.Errorf("a pruned selection: %d, want 404", code)
			}
		})
	})
}

func htmlPart(t *testing.T, data []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no HTML part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			b, _ := io.ReadAll(p) // the multipart reader decodes quoted-printable itself
			return string(b)
		}
	}
}
