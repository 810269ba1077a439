package subscribers_test

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
)

// FuzzSubscribeForm posts arbitrary bodies to /subscribe: the answer is
// always one of the expected pages, never a 500 or a panic, and whatever the
// queue was given has passed validation.
func FuzzSubscribeForm(f *testing.F) {
	for _, s := range []string{
		"email=anna%40example.org&regions=DE-BY&topics=open-source&cadence=daily",
		"email=%ff%fe&name=%0d%0aBcc:x",
		"email=a@b.c&regions=DE-XX&regions=&topics=%3Cscript%3E",
		"email=&&&=&%", "website=x&email=bot%40example.org",
	} {
		f.Add(s, "10.0.0.1, 198.51.100.7")
	}
	g := newFixtureWith(f, storetest.SQLite(f), subscribers.HandlerDeps{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	f.Fuzz(func(t *testing.T, body, xff string) {
		req := httptest.NewRequest("POST", "/subscribe", strings.NewReader(body))
		req.RemoteAddr = "10.0.0.2:1234"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", xff)
		rec := httptest.NewRecorder()
		g.h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413, 429: // 429: the fuzzer is faster than the per-client limit
		default:
			t.Fatalf("status %d for %q\n%s", rec.Code, body, rec.Body)
		}
		g.h.Wait()
		g.mail.mu.Lock()
		defer g.mail.mu.Unlock()
		for _, n := range g.mail.sent {
			if _, err := subscribers.ValidateEmail(n.Email); err != nil {
				t.Fatalf("mail to an invalid address %q", n.Email)
			}
		}
	})
}
