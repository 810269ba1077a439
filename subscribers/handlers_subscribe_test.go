package subscribers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
)

// post sends a form from the client ip with extra headers.
func (f *fixture) post(ip, target string, form url.Values, hdr ...string) response {
	f.t.Helper()
	req := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.RemoteAddr = ip + ":40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return response{code: rec.Code, body: rec.Body.String(), hdr: rec.Header()}
}

func (f *fixture) byEmail(email string) (subscribers.Subscriber, bool) {
	f.t.Helper()
	sub, err := f.store.GetByEmail(context.Background(), email)
	if err == subscribers.ErrNotFound {
		return sub, false
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return sub, true
}

func signupForm(email string, kv ...string) url.Values {
	v := url.Values{"email": {email}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

const checkInbox = "Bitte prüfen Sie Ihr Postfach"

func TestHandler_SubscribeForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixtureWith(t, db, subscribers.HandlerDeps{PrivacyURL: "https://www.example.org/datenschutz"})
		t.Run("GET", func(t *testing.T) {
			r := f.do("GET", "/subscribe", nil)
			wantPage(t, r, 200, "Newsletter abonnieren", `<form method="post" action="/subscribe" novalidate>`,
				`<label for="email">E-Mail-Adresse</label>`, `id="email" name="email"`, `autocomplete="email"`,
				`<label for="name">Name`, "<legend>Länder</legend>", "<legend>Themen</legend>", `<label for="region-DE-TH">`,
				`id="cadence-weekly" name="cadence" value="weekly" checked`, "Kommune21 Digest (digest@example.org)",
				"Bestätigungslink", "widerrufen", `<a href="https://www.example.org/datenschutz">Hinweise zum Datenschutz</a>`,
				`name="website" value="" tabindex="-1"`, `<button type="submit" aria-describedby="consent">Anmelden</button>`)
			if n := strings.Count(r.body, `name="regions"`); n != 17 {
				t.Errorf("%d region checkboxes, want 17", n)
			}
			if n := strings.Count(r.body, `name="topics"`); n != 20 {
				t.Errorf("%d topic checkboxes, want 20", n)
			}
			if strings.Contains(r.body, " checked") && strings.Count(r.body, " checked") != 1 {
				t.Errorf("something besides weekly is preselected")
			}
			for _, bad := range []string{"<script", "<img", "<link", "http://"} {
				if strings.Contains(r.body, bad) {
					t.Errorf("page contains %q", bad)
				}
			}
		})
		t.Run("GETPreselects", func(t *testing.T) {
			r := f.do("GET", "/subscribe?regions=DE-BY&regions=de-he,DE-TH&topics=it-sicherheit&cadence=daily", nil)
			wantPage(t, r, 200, `value="DE-BY" checked`, `value="DE-HE" checked`, `value="DE-TH" checked`,
				`value="it-sicherheit" checked`, `value="daily" checked`)
			if strings.Contains(r.body, `value="weekly" checked`) {
				t.Error("weekly still checked")
			}
		})
		t.Run("GETUnknownValues", func(t *testing.T) {
			r := f.do("GET", "/subscribe?regions=DE-XX&topics=kochen&cadence=hourly", nil)
			wantPage(t, r, 400, "Unbekannte Länder: „DE-XX“", "Unbekannte Themen: „kochen“", "Unbekannter Rhythmus „hourly“")
		})
		t.Run("NoPrivacyURL", func(t *testing.T) {
			g := newFixture(t, db)
			if r := g.do("GET", "/subscribe", nil); strings.Contains(r.body, "Datenschutz") || r.code != 200 {
				t.Errorf("privacy link without DIGEST_PRIVACY_URL (%d)", r.code)
			}
		})
	})
}

func TestHandler_SubscribeNewAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		r := f.post("198.51.100.4", "/subscribe", signupForm("Neu@Example.org", "name", " Nora Neu ", "regions", "DE-BY", "regions", "de-th",
			"topics", "it-sicherheit", "cadence", "daily", "website", ""), "Referer", "https://www.kommune21.de/bayern/?utm=x#form")
		wantPage(t, r, 200, checkInbox, "Neu@Example.org", "höchstens drei E-Mails")
		f.h.Wait()
		sub, ok := f.byEmail("neu@example.org")
		if !ok || sub.Status != subscribers.StatusPending || sub.Name != "Nora Neu" || sub.Cadence != subscribers.Daily ||
			!reflect.DeepEqual(sub.Regions, []string{"DE-BY", "DE-TH"}) || !reflect.DeepEqual(sub.Topics, []string{"it-sicherheit"}) {
			t.Fatalf("after signup: %v %+v", ok, sub)
		}
		events, _ := f.store.ConsentEvents(context.Background(), sub.ID)
		if len(events) != 1 || events[0].Kind != subscribers.EventSignupRequested || events[0].IP != "198.51.100.4" ||
			events[0].Source != "signup-form https://www.kommune21.de/bayern/" ||
			events[0].Details != "previous status none (new address); regions DE-BY,DE-TH; topics it-sicherheit; cadence daily" {
			t.Fatalf("consent events: %+v", events)
		}
		mails := f.mail.to("neu@example.org")
		if len(mails) != 1 || mails[0].Kind != subscribers.NoticeConfirm || mails[0].Name != "Nora Neu" {
			t.Fatalf("mails: %+v", mails)
		}
		link, _ := url.Parse(mails[0].ConfirmURL)
		wantPage(t, f.post("203.0.113.9", link.RequestURI(), url.Values{}), 200, "Anmeldung bestätigt")
		sub, _ = f.byEmail("neu@example.org")
		if sub.Status != subscribers.StatusActive || sub.Consent.IP != "203.0.113.9" || sub.Consent.Method != "double-opt-in" {
			t.Fatalf("after confirming: %+v", sub)
		}
	})
}

// TestHandler_SubscribeSameAnswerEveryState: the page is the same byte for
// byte whatever the address's state, and what happens behind it is right.
func TestHandler_SubscribeSameAnswerEveryState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, st := range subscribers.Statuses {
			f.add(string(st)+"@example.org", st) // DE-BY, open-source, weekly
		}
		form := func(email string) url.Values {
			return signupForm(email, "regions", "DE-HE", "topics", "smart-city", "name", "Neuer Name")
		}
		want := strings.ReplaceAll(f.post("192.0.2.1", "/subscribe", form("new@example.org")).body, "new@example.org", "ADDR")
		for _, st := range subscribers.Statuses {
			email := string(st) + "@example.org"
			r := f.post("192.0.2.1", "/subscribe", form(email))
			if r.code != 200 || strings.ReplaceAll(r.body, email, "ADDR") != want {
				t.Errorf("%s: the answer differs from a new address's (%d):\n%s", st, r.code, r.body)
			}
		}
		f.h.Wait()
		for st, want := range map[subscribers.Status]struct {
			status  subscribers.Status
			notice  subscribers.NoticeKind
			regions []string
		}{
			subscribers.StatusPending:      {subscribers.StatusPending, subscribers.NoticeConfirm, []string{"DE-HE"}},
			subscribers.StatusActive:       {subscribers.StatusActive, subscribers.NoticeAlreadySubscribed, []string{"DE-BY"}},
			subscribers.StatusUnsubscribed: {subscribers.StatusPending, subscribers.NoticeConfirm, []string{"DE-HE"}},
			subscribers.StatusBounced:      {subscribers.StatusPending, subscribers.NoticeConfirm, []string{"DE-HE"}},
		} {
			sub, _ := f.byEmail(string(st) + "@example.org")
			mails := f.mail.to(sub.Email)
			if sub.Status != want.status || !reflect.DeepEqual(sub.Regions, want.regions) || len(mails) != 1 || mails[0].Kind != want.notice {
				t.Errorf("%s: now %s %v, mails %+v", st, sub.Status, sub.Regions, mails)
			}
			if st == subscribers.StatusActive {
				if sub.Name != "Anna Beispiel" || mails[0].ConfirmURL != "" || !strings.HasPrefix(mails[0].PreferencesURL, fixtureBaseURL+"/preferences?t=") ||
					!strings.HasPrefix(mails[0].UnsubscribeURL, fixtureBaseURL+"/unsubscribe?t=") {
					t.Errorf("active: %+v / %+v", sub, mails[0])
				}
			}
		}
	})
}

// TestHandler_SubscribeAnswersBeforeTheMailWork: the page does not wait for
// the database work or the mail, so its timing cannot tell states apart.
func TestHandler_SubscribeAnswersBeforeTheMailWork(t *testing.T) {
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	f.add("active@example.org", subscribers.StatusActive)
	release := make(chan struct{})
	blocking := &blockingMailer{release: release}
	g := newFixtureWith(t, db, subscribers.HandlerDeps{Mailer: blocking})
	for _, email := range []string{"new@example.org", "active@example.org"} {
		done := make(chan response, 1)
		go func() { done <- g.post("192.0.2.1", "/subscribe", signupForm(email)) }()
		select {
		case r := <-done:
			wantPage(t, r, 200, checkInbox)
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: the page waited for the mail", email)
		}
	}
	close(release)
	g.h.Wait()
	if n := blocking.count(); n != 2 {
		t.Fatalf("%d mails after release, want 2", n)
	}
}

type blockingMailer struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (b *blockingMailer) SendNotice(ctx context.Context, _ subscribers.Notice) error {
	<-b.release
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
	return nil
}

func (b *blockingMailer) count() int { b.mu.Lock(); defer b.mu.Unlock(); return b.n }

func TestHandler_SubscribeLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		t.Run("PerAddressWhateverTheIPs", func(t *testing.T) {
			f := newFixture(t, db)
			for i := range 10 {
				ip := "198.51.100." + string(rune('1'+i%9))
				wantPage(t, f.post(ip, "/subscribe", signupForm("victim@example.org")), 200, checkInbox)
				f.h.Wait()
				f.clock.add(11 * time.Minute)
			}
			if n := len(f.mail.to("victim@example.org")); n != 3 { // the issue: at most 3 per address per 24 hours
				t.Fatalf("10 signups in 110 minutes from 9 IPs sent %d mails, want 3", n)
			}
			f.clock.add(24 * time.Hour)
			f.post("198.51.100.1", "/subscribe", signupForm("victim@example.org"))
			f.h.Wait()
			if n := len(f.mail.to("victim@example.org")); n != 4 {
				t.Fatalf("a day later: %d mails, want 4", n)
			}
		})
		t.Run("PendingAtMostEvery10Minutes", func(t *testing.T) {
			f := newFixture(t, db)
			for range 3 {
				f.post("192.0.2.1", "/subscribe", signupForm("eilig@example.org"))
				f.h.Wait()
				f.clock.add(4 * time.Minute)
			}
			if n := len(f.mail.to("eilig@example.org")); n != 1 {
				t.Fatalf("3 signups at 0, 4 and 8 minutes sent %d mails, want 1", n)
			}
			f.clock.add(10 * time.Minute) // 22 minutes after the first
			f.post("192.0.2.1", "/subscribe", signupForm("eilig@example.org"))
			f.h.Wait()
			if n := len(f.mail.to("eilig@example.org")); n != 2 {
				t.Fatalf("after 10 quiet minutes: %d mails, want 2", n)
			}
		})
		t.Run("SpacingIsPerKind", func(t *testing.T) {
			// Sign up, confirm, sign up again at once: the "already subscribed"
			// mail is not held back by the confirmation sent a minute ago.
			f := newFixture(t, db)
			f.post("192.0.2.1", "/subscribe", signupForm("flink@example.org"))
			f.h.Wait()
			link, _ := url.Parse(f.mail.to("flink@example.org")[0].ConfirmURL)
			f.clock.add(time.Minute)
			f.post("192.0.2.1", link.RequestURI(), url.Values{})
			f.post("192.0.2.1", "/subscribe", signupForm("flink@example.org"))
			f.h.Wait()
			m := f.mail.to("flink@example.org")
			if len(m) != 2 || m[1].Kind != subscribers.NoticeAlreadySubscribed {
				t.Fatalf("mails: %+v", m)
			}
			f.post("192.0.2.1", "/subscribe", signupForm("flink@example.org"))
			f.h.Wait()
			if n := len(f.mail.to("flink@example.org")); n != 2 {
				t.Fatalf("a second \"already subscribed\" within 10 minutes: %d mails", n)
			}
		})
		t.Run("LimitedChangesNothing", func(t *testing.T) {
			f := newFixture(t, db)
			sub := f.add("left@example.org", subscribers.StatusUnsubscribed)
			for range 3 {
				f.post("192.0.2.1", "/manage", signupForm("left@example.org")) // nothing: not subscribed
			}
			f.post("192.0.2.1", "/subscribe", signupForm("left@example.org", "regions", "DE-HH"))
			f.h.Wait()
			f.post("192.0.2.1", "/subscribe", signupForm("left@example.org", "regions", "DE-SL"))
			f.h.Wait()
			got := f.get(sub.ID)
			if got.Status != subscribers.StatusPending || strings.Join(got.Regions, ",") != "DE-HH" || len(f.mail.to(sub.Email)) != 1 {
				t.Fatalf("the held-back request changed something: %+v, %d mails", got, len(f.mail.to(sub.Email)))
			}
		})
		t.Run("PerIP", func(t *testing.T) {
			f := newFixtureWith(t, db, subscribers.HandlerDeps{SignupPerHour: 2, SignupBurst: 2})
			for i := range 2 {
				if r := f.post("192.0.2.50", "/subscribe", signupForm("a"+string(rune('0'+i))+"@example.org")); r.code != 200 {
					t.Fatalf("post %d = %d", i+1, r.code)
				}
			}
			r := f.post("192.0.2.50", "/subscribe", signupForm("a9@example.org"))
			wantPage(t, r, 429, "Zu viele Anfragen")
			if r := f.post("192.0.2.50", "/manage", signupForm("a9@example.org")); r.code != 429 {
				t.Errorf("manage from the same IP = %d, want 429", r.code)
			}
			if r := f.post("192.0.2.51", "/subscribe", signupForm("a9@example.org")); r.code != 200 {
				t.Errorf("another IP = %d, want 200", r.code)
			}
			f.h.Wait()
			if _, ok := f.byEmail("a9@example.org"); !ok {
				t.Error("the other IP's signup was not taken")
			}
		})
	})
}

func TestHandler_SubscribeBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		long := strings.Repeat("x", 250) + "@example.org"
		cases := []struct {
			name  string
			form  url.Values
			texts []string
		}{
			{"emptyEmail", signupForm("", "name", "Anna"), []string{`id="email-error"`, "Bitte geben Sie Ihre E-Mail-Adresse an", `value="Anna"`}},
			{"notAnAddress", signupForm("anna(at)example.org", "regions", "DE-BY"), []string{"„anna(at)example.org“ ist keine gültige E-Mail-Adresse", `aria-invalid="true" aria-describedby="email-error"`, `value="anna(at)example.org"`, `value="DE-BY" checked`}},
			{"displayName", signupForm("Anna <anna@example.org>"), []string{"ist keine gültige E-Mail-Adresse"}},
			{"noDot", signupForm("anna@localhost"), []string{"ist keine gültige E-Mail-Adresse"}},
			{"tooLong", signupForm(long), []string{"ist keine gültige E-Mail-Adresse"}},
			{"headerInjection", signupForm("anna@example.org\r\nBcc: x@example.org"), []string{"ist keine gültige E-Mail-Adresse"}},
			{"nameWithNewline", signupForm("anna@example.org", "name", "Anna\nBcc: x"), []string{`id="name-error"`, "keine Zeilenumbrüche"}},
			{"nameTooLong", signupForm("anna@example.org", "name", strings.Repeat("n", 201)), []string{`id="name-error"`, "höchstens 200 Zeichen"}},
			{"unknownRegionAndTopic", signupForm("anna@example.org", "regions", "DE-XX", "regions", "DE-BY", "topics", "<b>kochen</b>"),
				[]string{`id="regions-error"`, "Unbekannte Länder: „DE-XX“", "Unbekannte Themen: „&lt;b&gt;kochen&lt;/b&gt;“", `value="DE-BY" checked`}},
			{"unknownCadence", signupForm("anna@example.org", "cadence", "hourly"), []string{`id="cadence-error"`, "Unbekannter Rhythmus „hourly“"}},
			{"twoCadences", signupForm("anna@example.org", "cadence", "weekly", "cadence", "daily"), []string{`id="cadence-error"`}},
			{"invalidUTF8", signupForm("anna\xff@example.org"), []string{`id="email-error"`}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := f.post("192.0.2.1", "/subscribe", tc.form)
				wantPage(t, r, 400, append([]string{"Bitte prüfen Sie Ihre Angaben", `<form method="post" action="/subscribe"`}, tc.texts...)...)
				if strings.Contains(r.body, "<b>") {
					t.Error("markup echoed unescaped")
				}
			})
		}
		f.h.Wait()
		var n int
		if err := db.GetContext(context.Background(), &n, `SELECT count(*) FROM subscribers`); err != nil || n != 0 {
			t.Fatalf("rejected posts created %d subscribers (%v)", n, err)
		}
		if len(f.mail.sent) != 0 {
			t.Fatalf("rejected posts sent mail: %+v", f.mail.sent)
		}

		t.Run("Honeypot", func(t *testing.T) {
			r := f.post("192.0.2.1", "/subscribe", signupForm("bot@example.org", "website", "http://spam.example"))
			wantPage(t, r, 200, checkInbox)
			f.h.Wait()
			if _, ok := f.byEmail("bot@example.org"); ok || len(f.mail.to("bot@example.org")) != 0 {
				t.Fatal("a filled honeypot still subscribed or mailed")
			}
		})
		t.Run("NotAForm", func(t *testing.T) {
			for _, ct := range []string{"application/json", "multipart/form-data; boundary=x", "text/plain"} {
				req := httptest.NewRequest("POST", "/subscribe", strings.NewReader(`{"email":"json@example.org"}`))
				req.Header.Set("Content-Type", ct)
				rec := httptest.NewRecorder()
				f.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnsupportedMediaType {
					t.Errorf("%s: %d, want 415", ct, rec.Code)
				}
			}
		})
		t.Run("BodyLimit", func(t *testing.T) {
			r := f.post("192.0.2.1", "/subscribe", signupForm("big@example.org", "name", strings.Repeat("x", subscribers.MaxSignupBodyBytes)))
			wantPage(t, r, 413, "Zu viele Daten")
		})
		t.Run("MethodNotAllowed", func(t *testing.T) {
			if r := f.do("PUT", "/subscribe", url.Values{}); r.code != 405 {
				t.Errorf("PUT = %d", r.code)
			}
		})
		f.h.Wait()
		if _, ok := f.byEmail("big@example.org"); ok {
			t.Error("oversized post was taken")
		}
	})
}

func TestHandler_Manage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		active := f.add("aktiv@example.org", subscribers.StatusActive)
		f.add("wartet@example.org", subscribers.StatusPending)
		f.add("weg@example.org", subscribers.StatusUnsubscribed)
		wantPage(t, f.do("GET", "/manage", nil), 200, `<form method="post" action="/manage" novalidate>`, `<label for="email">E-Mail-Adresse</label>`)
		var want string
		for i, email := range []string{"aktiv@example.org", "wartet@example.org", "weg@example.org", "niemand@example.org"} {
			r := f.post("192.0.2.1", "/manage", signupForm(email))
			wantPage(t, r, 200, checkInbox, "Wenn für")
			if body := strings.ReplaceAll(r.body, email, "ADDR"); i == 0 {
				want = body
			} else if body != want {
				t.Errorf("%s: the answer differs:\n%s", email, r.body)
			}
		}
		f.h.Wait()
		if m := f.mail.to("aktiv@example.org"); len(m) != 1 || m[0].Kind != subscribers.NoticeLinks ||
			m[0].UnsubscribeURL != f.signer.URL(fixtureBaseURL, subscribers.PurposeUnsubscribe, active.ID, active.Email) {
			t.Errorf("active: %+v", m)
		}
		if m := f.mail.to("wartet@example.org"); len(m) != 1 || m[0].Kind != subscribers.NoticeConfirm {
			t.Errorf("pending: %+v", m)
		}
		if n := len(f.mail.to("weg@example.org")) + len(f.mail.to("niemand@example.org")); n != 0 {
			t.Errorf("mails to unsubscribed or unknown addresses: %d", n)
		}
		if _, ok := f.byEmail("niemand@example.org"); ok {
			t.Error("manage created a subscriber")
		}
		wantPage(t, f.post("192.0.2.1", "/manage", signupForm("kaputt")), 400, `id="email-error"`, `value="kaputt"`)
	})
}

func TestHandler_TrustedProxies(t *testing.T) {
	db := storetest.SQLite(t)
	proxies, err := subscribers.ParseTrustedProxies("10.0.0.0/8, ::1, 2001:db8::/32")
	if err != nil || len(proxies) != 3 || proxies[1] != netip.MustParsePrefix("::1/128") {
		t.Fatalf("ParseTrustedProxies = %v, %v", proxies, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1/8x"} {
		if _, err := subscribers.ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	cases := []struct {
		name, peer string
		xff        []string
		trusted    []netip.Prefix
		want       string
	}{
		{"noProxiesHeaderIgnored", "192.0.2.7", []string{"203.0.113.1"}, nil, "192.0.2.7"},
		{"untrustedPeerHeaderIgnored", "192.0.2.7", []string{"203.0.113.1"}, proxies, "192.0.2.7"},
		{"oneHop", "10.0.0.2", []string{"203.0.113.1"}, proxies, "203.0.113.1"},
		{"spoofedLeftIgnored", "10.0.0.2", []string{"1.2.3.4, 203.0.113.1, 10.1.1.1"}, proxies, "203.0.113.1"},
		{"severalHeaders", "10.0.0.2", []string{"1.2.3.4", "203.0.113.1", "10.9.9.9"}, proxies, "203.0.113.1"},
		{"garbageStopsAtLastTrusted", "10.0.0.2", []string{"203.0.113.1, nonsense"}, proxies, "10.0.0.2"},
		{"allTrusted", "10.0.0.2", []string{"10.0.0.3"}, proxies, "10.0.0.3"},
		{"ipv6Proxy", "[::1]", []string{"2001:db8::5, 198.51.100.8"}, proxies, "198.51.100.8"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixtureWith(t, db, subscribers.HandlerDeps{TrustedProxies: tc.trusted})
			email := "proxy" + string(rune('a'+i)) + "@example.org"
			req := httptest.NewRequest("POST", "/subscribe", strings.NewReader(signupForm(email).Encode()))
			req.RemoteAddr = tc.peer + ":443"
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, x := range tc.xff {
				req.Header.Add("X-Forwarded-For", x)
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			io.Copy(io.Discard, rec.Body)
			f.h.Wait()
			sub, ok := f.byEmail(email)
			if !ok {
				t.Fatalf("no subscriber (%d)", rec.Code)
			}
			ev, _ := f.store.ConsentEvents(context.Background(), sub.ID)
			if len(ev) != 1 || ev[0].IP != tc.want {
				t.Fatalf("consent IP = %+v, want %s", ev, tc.want)
			}
		})
	}
}

// TestHandler_SignupPendingPurged: a signup nobody confirms is deleted after
// 30 days with its consent events, like any pending subscriber.
func TestHandler_SignupPendingPurged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.post("192.0.2.1", "/subscribe", signupForm("vergessen@example.org"))
		f.post("192.0.2.1", "/subscribe", signupForm("bestaetigt@example.org"))
		f.h.Wait()
		link, _ := url.Parse(f.mail.to("bestaetigt@example.org")[0].ConfirmURL)
		f.post("192.0.2.1", link.RequestURI(), url.Values{})
		sub, _ := f.byEmail("vergessen@example.org")
		ctx := context.Background()
		if n, err := f.store.PurgePending(ctx, f.clock.now().Add(-subscribers.PendingMaxAge)); err != nil || n != 0 {
			t.Fatalf("purge now: %d, %v", n, err)
		}
		f.clock.add(subscribers.PendingMaxAge + time.Hour)
		if n, err := f.store.PurgePending(ctx, f.clock.now().Add(-subscribers.PendingMaxAge)); err != nil || n != 1 {
			t.Fatalf("purge after 30 days: %d, %v", n, err)
		}
		if _, ok := f.byEmail("vergessen@example.org"); ok {
			t.Fatal("unconfirmed signup still there")
		}
		if _, ok := f.byEmail("bestaetigt@example.org"); !ok {
			t.Fatal("the confirmed one was purged")
		}
		var n int
		if err := db.GetContext(ctx, &n, db.Rebind(`SELECT count(*) FROM consent_events WHERE subscriber_id = ?`), sub.ID); err != nil || n != 0 {
			t.Fatalf("%d consent events of the purged signup left (%v)", n, err)
		}
		if err := f.store.PurgeNoticeLog(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.GetContext(ctx, &n, `SELECT count(*) FROM notice_mails`); err != nil || n != 0 {
			t.Fatalf("%d notice log rows older than a day left (%v)", n, err)
		}
	})
}
