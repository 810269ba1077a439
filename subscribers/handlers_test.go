package subscribers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

const handlerSecret = "k1:0123456789abcdef0123"

type fixture struct {
	t      testing.TB
	db     *store.DB
	store  *subscribers.Store
	signer *subscribers.Signer
	h      *subscribers.Handler
	mail   *mailbox
	clock  *clock
}

// mailbox records the notices the handler sends (the e2e test sends them
// through a real SMTP server).
type mailbox struct {
	mu   sync.Mutex
	sent []subscribers.Notice
	fail error
}

func (m *mailbox) SendNotice(_ context.Context, n subscribers.Notice) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, n)
	return nil
}

// to returns the notices sent to email so far.
func (m *mailbox) to(email string) []subscribers.Notice {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []subscribers.Notice
	for _, n := range m.sent {
		if strings.EqualFold(n.Email, email) {
			out = append(out, n)
		}
	}
	return out
}

// clock is a settable time for the store and the limiters.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const fixtureBaseURL = "https://digest.example.org"

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	return newFixtureWith(t, db, subscribers.HandlerDeps{})
}

// newFixtureWith builds the handler with the fixture's parts and whatever
// extra deps sets (trusted proxies, limits).
func newFixtureWith(t testing.TB, db *store.DB, extra subscribers.HandlerDeps) *fixture {
	t.Helper()
	signer, err := subscribers.NewSigner(handlerSecret)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := templates.NewPages()
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	mb := &mailbox{}
	st := subscribers.NewStore(db, clk.now)
	d := extra
	d.Store, d.Taxonomy, d.DB, d.Signer, d.Pages = st, taxonomy.NewStore(db), db, signer, pages
	d.Site, d.BaseURL, d.Sender, d.Now = "Kommune21 Digest", fixtureBaseURL, "digest@example.org", clk.now
	if d.Mailer == nil {
		d.Mailer = mb
	}
	if d.Rate == 0 {
		d.Rate, d.Burst = 1000, 1000
	}
	if d.SignupPerHour == 0 {
		d.SignupPerHour, d.SignupBurst = 1e6, 1000
	}
	h, err := subscribers.NewHandler(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return &fixture{t: t, db: db, store: st, signer: signer, h: h, mail: mb, clock: clk}
}

func (f *fixture) add(email string, status subscribers.Status) subscribers.Subscriber {
	f.t.Helper()
	sub := subscribers.Subscriber{Email: email, Name: "Anna Beispiel", Status: status,
		Regions: []string{"DE-BY"}, Topics: []string{"open-source"}}
	if err := f.store.Create(context.Background(), &sub); err != nil {
		f.t.Fatal(err)
	}
	return sub
}

func (f *fixture) get(id int64) subscribers.Subscriber {
	f.t.Helper()
	sub, err := f.store.Get(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return sub
}

type response struct {
	code int
	body string
	hdr  http.Header
}

func (f *fixture) do(method, target string, form url.Values) response {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = "192.0.2.7:40000"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return response{code: rec.Code, body: rec.Body.String(), hdr: rec.Header()}
}

func (f *fixture) path(p subscribers.Purpose, sub subscribers.Subscriber) string {
	u := f.signer.URL("http://digest.test", p, sub.ID, sub.Email)
	return strings.TrimPrefix(u, "http://digest.test")
}

func wantPage(t *testing.T, r response, code int, texts ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("status = %d, want %d; body:\n%s", r.code, code, r.body)
	}
	if ct := r.hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/html; charset=utf-8") {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, s := range texts {
		if !strings.Contains(r.body, s) {
			t.Errorf("page lacks %q; body:\n%s", s, r.body)
		}
	}
}

var oneClick = url.Values{"List-Unsubscribe": {"One-Click"}}

func TestHandler_Unsubscribe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sub := f.add("anna@example.org", subscribers.StatusActive)
		target := f.path(subscribers.PurposeUnsubscribe, sub)

		t.Run("GETShowsButtonAndChangesNothing", func(t *testing.T) {
			for range 3 {
				r := f.do("GET", target, nil)
				wantPage(t, r, 200, "Newsletter abbestellen", "anna@example.org", `<button type="submit">Jetzt abmelden</button>`,
					`method="post"`, `name="List-Unsubscribe" value="One-Click"`)
			}
			if got := f.get(sub.ID).Status; got != subscribers.StatusActive {
				t.Fatalf("status after GET = %s, want active", got)
			}
			if r := f.do("HEAD", target, nil); r.code != 200 || r.body != "" || f.get(sub.ID).Status != subscribers.StatusActive {
				t.Fatalf("HEAD: %d %q status %s", r.code, r.body, f.get(sub.ID).Status)
			}
		})
		t.Run("OneClickPOSTTwice", func(t *testing.T) {
			for i := range 2 {
				r := f.do("POST", target, oneClick)
				wantPage(t, r, 200, "Sie sind abgemeldet", "anna@example.org")
				if got := f.get(sub.ID); got.Status != subscribers.StatusUnsubscribed || got.UnsubscribedAt.IsZero() {
					t.Fatalf("POST %d: subscriber = %s at %v", i+1, got.Status, got.UnsubscribedAt)
				}
			}
		})
		t.Run("POSTWithoutBody", func(t *testing.T) {
			other := f.add("ohne-body@example.org", subscribers.StatusActive)
			r := f.do("POST", f.path(subscribers.PurposeUnsubscribe, other), nil)
			wantPage(t, r, 200, "Sie sind abgemeldet")
			if got := f.get(other.ID).Status; got != subscribers.StatusUnsubscribed {
				t.Fatalf("status = %s", got)
			}
		})
		t.Run("PageOffersResubscribe", func(t *testing.T) {
			r := f.do("GET", target, nil)
			wantPage(t, r, 200, "Wieder anmelden", `action="/resubscribe?t=`)
		})
	})
}

func TestHandler_Confirm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sub := f.add("neu@example.org", subscribers.StatusPending)
		target := f.path(subscribers.PurposeConfirm, sub)

		r := f.do("GET", target, nil)
		wantPage(t, r, 200, "Anmeldung bestätigen", "neu@example.org", `<form method="post" action="`+target+`"`)
		if got := f.get(sub.ID).Status; got != subscribers.StatusPending {
			t.Fatalf("status after GET = %s, want pending", got)
		}
		r = f.do("POST", target, url.Values{})
		wantPage(t, r, 200, "Anmeldung bestätigt", "Vielen Dank")
		got := f.get(sub.ID)
		if got.Status != subscribers.StatusActive || got.Consent.IP != "192.0.2.7" ||
			got.Consent.Source != subscribers.ConsentSourceConfirmLink || got.Consent.Method != "double-opt-in" || got.ConfirmedAt.IsZero() {
			t.Fatalf("after POST: %+v", got)
		}
		// Confirming again is harmless and keeps the first evidence.
		r = f.do("POST", target, url.Values{})
		wantPage(t, r, 200, "Anmeldung bestätigt")
		if again := f.get(sub.ID); !again.ConfirmedAt.Equal(got.ConfirmedAt) {
			t.Errorf("second confirm changed confirmed_at %v → %v", got.ConfirmedAt, again.ConfirmedAt)
		}
	})
}

func TestHandler_BadTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sub := f.add("anna@example.org", subscribers.StatusPending)
		erased := f.add("weg@example.org", subscribers.StatusActive)
		if _, err := f.store.Delete(context.Background(), erased.ID); err != nil {
			t.Fatal(err)
		}
		otherKey, _ := subscribers.NewSigner("k1:fedcba9876543210fedc")
		rotatedAway, _ := subscribers.NewSigner("k0:fedcba9876543210fedc")
		tok := func(s *subscribers.Signer, p subscribers.Purpose, id int64, email string) string {
			return url.QueryEscape(s.Token(p, id, email))
		}
		good := map[subscribers.Purpose]string{}
		for _, p := range []subscribers.Purpose{subscribers.PurposeUnsubscribe, subscribers.PurposeConfirm, subscribers.PurposePreferences} {
			good[p] = f.signer.Token(p, sub.ID, sub.Email)
		}
		for _, p := range []subscribers.Purpose{subscribers.PurposeUnsubscribe, subscribers.PurposeConfirm, subscribers.PurposePreferences} {
			other := subscribers.PurposeConfirm
			if p == subscribers.PurposeConfirm {
				other = subscribers.PurposeUnsubscribe
			}
			cases := []struct {
				name, query string
				code        int
				text        string
			}{
				{"missing", "", 400, "Der Link ist unvollständig"},
				{"empty", "?t=", 400, "Der Link ist unvollständig"},
				{"forged", "?t=k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 400, "Dieser Link ist ungültig"},
				{"truncated", "?t=" + good[p][:len(good[p])-3], 400, "Dieser Link ist ungültig"},
				{"otherPurpose", "?t=" + good[other], 400, "Dieser Link ist ungültig"},
				{"otherKey", "?t=" + tok(otherKey, p, sub.ID, sub.Email), 400, "Dieser Link ist ungültig"},
				{"unknownKeyID", "?t=" + tok(rotatedAway, p, sub.ID, sub.Email), 400, "Dieser Link ist ungültig"},
				{"otherAddressSameID", "?t=" + tok(f.signer, p, sub.ID, "mallory@example.org"), 404, "Kein Abonnement gefunden"},
				{"erased", "?t=" + tok(f.signer, p, erased.ID, erased.Email), 404, "Kein Abonnement gefunden"},
				{"unknownID", "?t=" + tok(f.signer, p, 999999, "x@example.org"), 404, "Kein Abonnement gefunden"},
			}
			for _, tc := range cases {
				for _, method := range []string{"GET", "POST"} {
					t.Run(string(p)+"/"+tc.name+"/"+method, func(t *testing.T) {
						form := url.Values(nil)
						if method == "POST" {
							form = url.Values{"List-Unsubscribe": {"One-Click"}, "regions": {"DE"}, "cadence": {"daily"}}
						}
						r := f.do(method, "/"+string(p)+tc.query, form)
						wantPage(t, r, tc.code, tc.text)
						got := f.get(sub.ID)
						if got.Status != subscribers.StatusPending || got.Cadence != subscribers.Weekly ||
							!reflect.DeepEqual(got.Regions, []string{"DE-BY"}) {
							t.Fatalf("state changed: %+v", got)
						}
					})
				}
			}
		}
	})
}

func TestHandler_Preferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sub := f.add("anna@example.org", subscribers.StatusActive)
		target := f.path(subscribers.PurposePreferences, sub)

		t.Run("GETForm", func(t *testing.T) {
			r := f.do("GET", target, nil)
			wantPage(t, r, 200, "Ihre Newsletter-Einstellungen", "<legend>Länder</legend>", "<legend>Themen</legend>",
				`id="region-DE-BY" name="regions" value="DE-BY" checked`, `id="region-DE-TH" name="regions" value="DE-TH">`,
				`<label for="region-DE-TH">`, "Thüringen", "Künstliche Intelligenz",
				`id="topic-open-source" name="topics" value="open-source" checked`,
				`id="cadence-weekly" name="cadence" value="weekly" checked`, `value="daily">`)
			if n := strings.Count(r.body, `name="regions"`); n != 17 {
				t.Errorf("%d region checkboxes, want 17", n)
			}
			if n := strings.Count(r.body, `name="topics"`); n != 20 {
				t.Errorf("%d topic checkboxes, want 20", n)
			}
		})
		t.Run("POSTRoundTrip", func(t *testing.T) {
			form := url.Values{"regions": {"DE-TH", "de-sn", "DE"}, "topics": {"it-sicherheit", "smart-city"}, "cadence": {"daily"}}
			r := f.do("POST", target, form)
			wantPage(t, r, 200, "Ihre Einstellungen sind gespeichert", "Bundesweit, Sachsen, Thüringen", "IT-Sicherheit, Smart City",
				"<dd>täglich</dd>", `value="DE-SN" checked`, `value="daily" checked`)
			got := f.get(sub.ID)
			if !reflect.DeepEqual(got.Regions, []string{"DE", "DE-SN", "DE-TH"}) ||
				!reflect.DeepEqual(got.Topics, []string{"it-sicherheit", "smart-city"}) || got.Cadence != subscribers.Daily {
				t.Fatalf("saved %+v", got)
			}
			if got.Name != "Anna Beispiel" || got.Status != subscribers.StatusActive {
				t.Fatalf("save changed other fields: %+v", got)
			}
			// The form shown now reflects the saved state.
			r = f.do("GET", target, nil)
			wantPage(t, r, 200, `value="DE-TH" checked`, `value="smart-city" checked`, `value="daily" checked`)
		})
		t.Run("POSTEmptyMeansAll", func(t *testing.T) {
			r := f.do("POST", target, url.Values{"cadence": {"weekly"}})
			wantPage(t, r, 200, "alle Länder", "alle Themen", "<dd>wöchentlich</dd>")
			got := f.get(sub.ID)
			if len(got.Regions) != 0 || len(got.Topics) != 0 || got.Cadence != subscribers.Weekly {
				t.Fatalf("saved %+v", got)
			}
		})
		t.Run("POSTWithoutCadenceKeepsIt", func(t *testing.T) {
			f.do("POST", target, url.Values{"cadence": {"daily"}})
			r := f.do("POST", target, url.Values{"regions": {"DE-HB"}})
			wantPage(t, r, 200, "Ihre Einstellungen sind gespeichert", "<dd>täglich</dd>")
			if got := f.get(sub.ID); got.Cadence != subscribers.Daily || strings.Join(got.Regions, ",") != "DE-HB" {
				t.Fatalf("saved %+v", got)
			}
		})
		t.Run("POSTUnknownValues", func(t *testing.T) {
			before := f.get(sub.ID)
			form := url.Values{"regions": {"DE-XX", "DE-BY"}, "topics": {"<script>alert(1)</script>"}, "cadence": {"hourly"}}
			r := f.do("POST", target, form)
			wantPage(t, r, 400, "Nichts wurde gespeichert", "Unbekanntes Bundesland: „DE-XX“",
				"Unbekanntes Thema: „&lt;script&gt;alert(1)&lt;/script&gt;“", "Unbekannter Rhythmus: „hourly“",
				`value="DE-BY" checked`)
			if strings.Contains(r.body, "<script>") {
				t.Error("page echoes markup unescaped")
			}
			if after := f.get(sub.ID); !reflect.DeepEqual(after, before) {
				t.Fatalf("rejected POST changed the subscriber:\n%+v\n%+v", before, after)
			}
		})
	})
}

func TestHandler_Infrastructure(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	sub := f.add("anna@example.org", subscribers.StatusActive)

	t.Run("Healthz", func(t *testing.T) {
		r := f.do("GET", "/healthz", nil)
		if r.code != 200 || r.body != "ok\n" {
			t.Fatalf("healthz = %d %q", r.code, r.body)
		}
	})
	t.Run("SecurityHeaders", func(t *testing.T) {
		r := f.do("GET", f.path(subscribers.PurposeUnsubscribe, sub), nil)
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Cache-Control":           "no-store",
		} {
			if got := r.hdr.Get(k); !strings.HasPrefix(got, want) {
				t.Errorf("%s = %q, want prefix %q", k, got, want)
			}
		}
	})
	t.Run("NoExternalAssets", func(t *testing.T) {
		r := f.do("GET", f.path(subscribers.PurposePreferences, sub), nil)
		for _, bad := range []string{"http://", "https://", "<script", "<img", "<link"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("page contains %q", bad)
			}
		}
		if !strings.Contains(r.body, `<html lang="de">`) {
			t.Error(`page lacks <html lang="de">`)
		}
	})
	t.Run("UnknownPath", func(t *testing.T) {
		wantPage(t, f.do("GET", "/admin", nil), 404, "Seite nicht gefunden")
	})
	t.Run("WrongMethod", func(t *testing.T) {
		if r := f.do("DELETE", f.path(subscribers.PurposeUnsubscribe, sub), nil); r.code != 405 {
			t.Errorf("DELETE = %d, want 405", r.code)
		}
	})
	t.Run("BodyLimit", func(t *testing.T) {
		big := url.Values{"topics": {strings.Repeat("x", subscribers.MaxBodyBytes)}}
		r := f.do("POST", f.path(subscribers.PurposePreferences, sub), big)
		if r.code != 413 {
			t.Errorf("huge body = %d, want 413", r.code)
		}
	})
}

func TestHandler_RateLimit(t *testing.T) {
	db := storetest.SQLite(t)
	signer, _ := subscribers.NewSigner(handlerSecret)
	pages, _ := templates.NewPages()
	now := time.Date(2026, 2, 16, 7, 0, 0, 0, time.UTC)
	h, err := subscribers.NewHandler(subscribers.HandlerDeps{
		Store: subscribers.NewStore(db, nil), Taxonomy: taxonomy.NewStore(db), DB: db, Signer: signer, Pages: pages,
		Rate: 1, Burst: 3, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func(ip string) int {
		req := httptest.NewRequest("GET", "/unsubscribe", nil)
		req.RemoteAddr = ip + ":1234"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range 3 {
		if c := get("192.0.2.1"); c != 400 {
			t.Fatalf("request %d = %d, want 400 (missing token)", i+1, c)
		}
	}
	if c := get("192.0.2.1"); c != 429 {
		t.Fatalf("4th request in the same instant = %d, want 429", c)
	}
	if c := get("192.0.2.2"); c != 400 {
		t.Fatalf("other client = %d, want 400: limits are per address", c)
	}
	now = now.Add(2 * time.Second)
	if c := get("192.0.2.1"); c != 400 {
		t.Fatalf("after waiting = %d, want 400", c)
	}
}

func TestNewServer_Timeouts(t *testing.T) {
	srv := subscribers.NewServer("127.0.0.1:0", http.NotFoundHandler(), nil)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("server without limits: %+v", srv)
	}
}

// TestHandler_PreferencesOnlyFormPosts: a multipart or JSON body to
// /preferences is refused with 415 and the choices stay as they were (it used
// to parse as "nothing chosen" and reset them to all).
func TestHandler_PreferencesOnlyFormPosts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sub := f.add("anna@example.org", subscribers.StatusActive)
		for _, tc := range []struct{ ct, body string }{
			{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"regions\"\r\n\r\nDE-HE\r\n--x--\r\n"},
			{"application/json", `{"regions":["DE-HE"]}`},
			{"text/plain", "regions=DE-HE"},
		} {
			req := httptest.NewRequest("POST", f.path(subscribers.PurposePreferences, sub), strings.NewReader(tc.body))
			req.RemoteAddr = "192.0.2.7:40000"
			req.Header.Set("Content-Type", tc.ct)
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnsupportedMediaType {
				t.Errorf("%s: status %d, want 415", tc.ct, rec.Code)
			}
			if got := f.get(sub.ID); !slices.Equal(got.Regions, []string{"DE-BY"}) || !slices.Equal(got.Topics, []string{"open-source"}) {
				t.Errorf("%s changed the choices: regions %v, topics %v", tc.ct, got.Regions, got.Topics)
			}
		}
		// the page's own form still saves
		r := f.do("POST", f.path(subscribers.PurposePreferences, sub), url.Values{"regions": {"DE-HE"}, "cadence": {"weekly"}})
		if r.code != http.StatusOK || !slices.Equal(f.get(sub.ID).Regions, []string{"DE-HE"}) {
			t.Errorf("form post: %d, regions %v", r.code, f.get(sub.ID).Regions)
		}
	})
}

// TestHandler_InvalidUTF8NotEchoed: a region value with bytes that are not
// UTF-8 is named in the 400 page with U+FFFD, never as the raw bytes.
func TestHandler_InvalidUTF8NotEchoed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sub := f.add("anna@example.org", subscribers.StatusActive)
		r := f.do("POST", f.path(subscribers.PurposePreferences, sub), url.Values{"regions": {"DE-\xff\xfe<b>"}})
		if r.code != http.StatusBadRequest || strings.Contains(r.body, "\xff") || !utf8.ValidString(r.body) || !strings.Contains(r.body, "„DE-\uFFFD&lt;b&gt;“") {
			t.Errorf("status %d; the page echoes invalid UTF-8 or does not name the value:\n%s", r.code, r.body)
		}
		if got := f.get(sub.ID); !slices.Equal(got.Regions, []string{"DE-BY"}) {
			t.Errorf("regions changed: %v", got.Regions)
		}
	})
}
