package articles

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

const marker = "ZQXJ7"

// TestImporter_Redirects: a feed may move on its own host and port (or to
// ports 80/443), never to another port or scheme; a refused target is named,
// redacted, and the refused service is never asked.
func TestImporter_Redirects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var secretHits int
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			secretHits++
			_, _ = w.Write([]byte("<html><body>" + marker + "</body></html>"))
		}))
		defer other.Close()
		feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/moved":
				http.Redirect(w, r, "/feed.xml", http.StatusMovedPermanently)
			case "/feed.xml":
				w.Header().Set("Content-Type", "application/rss+xml")
				_, _ = w.Write(SampleFeed)
			case "/to-other-port":
				http.Redirect(w, r, other.URL+"/admin?token=tok"+marker, http.StatusFound)
			case "/to-file":
				http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
			case "/to-gopher":
				http.Redirect(w, r, "gopher://127.0.0.1:70/", http.StatusFound)
			case "/html":
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte("<!DOCTYPE html><html><body>" + marker + "</body></html>"))
			case "/text":
				_, _ = w.Write([]byte(marker + " plain text"))
			case "/badxml":
				_, _ = w.Write([]byte("<rss version=\"2.0\"><channel><" + marker + "></channel></rss>"))
			case "/status":
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(marker))
			}
		}))
		defer feed.Close()
		im := newImporter(t, db)

		res, err := im.Import(ctx, feed.URL+"/moved", t0)
		if err != nil || res.New == 0 {
			t.Fatalf("a redirect on the feed's own host and port: %+v, %v", res, err)
		}

		for _, path := range []string{"/to-other-port", "/to-file", "/to-gopher"} {
			_, err := im.Import(ctx, feed.URL+path, t0)
			var re *RedirectError
			if !errors.As(err, &re) {
				t.Fatalf("%s: err = %v, want a refused redirect", path, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, feed.URL+path) || !strings.Contains(msg, "refused to follow the redirect") {
				t.Errorf("%s: the error does not name the feed and the refusal: %s", path, msg)
			}
			if strings.Contains(msg, marker) {
				t.Errorf("%s: the error shows the target's secret: %s", path, msg)
			}
		}
		if !strings.Contains(errString(im.Import(ctx, feed.URL+"/to-other-port", t0)), strings.TrimPrefix(other.URL, "http://")+"/admin?token=xxxxx") {
			t.Errorf("the refused target is not named (redacted)")
		}
		if secretHits != 0 {
			t.Errorf("the service on the other port was asked %d times", secretHits)
		}

		for path, want := range map[string]string{"/html": "HTML page", "/text": "neither '<' nor '{'", "/badxml": "line 1", "/status": "500"} {
			msg := errString(im.Import(ctx, feed.URL+path, t0))
			if msg == "" || !strings.Contains(msg, want) {
				t.Errorf("%s: error %q does not say %q", path, msg, want)
			}
			if strings.Contains(msg, marker) {
				t.Errorf("%s: the error echoes the reply's bytes: %s", path, msg)
			}
		}
	})
}

func errString(_ Result, err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRedirectPolicy covers the targets a loopback test cannot serve.
func TestRedirectPolicy(t *testing.T) {
	policy := redirectPolicy(nil)
	req := func(s string) *http.Request {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Request{URL: u}
	}
	via := []*http.Request{req("http://feeds.example:8080/rss")}
	for target, ok := range map[string]bool{
		"https://cdn.example/rss":            true,
		"http://cdn.example/rss":             true,
		"https://cdn.example:443/rss":        true,
		"http://cdn.example:80/rss":          true,
		"http://feeds.example:8080/new":      true,
		"http://FEEDS.example:8080/new":      true,
		"http://feeds.example:8081/new":      false,
		"http://127.0.0.1:6379/":             false,
		"http://[::1]:2375/containers/json":  false,
		"https://cdn.example:8443/rss":       false,
		"ftp://cdn.example/rss":              false,
		"file:///etc/passwd":                 false,
		"http://169.254.169.254:81/metadata": false,
	} {
		err := policy(req(target), via)
		if (err == nil) != ok {
			t.Errorf("redirect to %s: err = %v, want allowed=%v", target, err, ok)
		}
	}
	long := make([]*http.Request, maxRedirects)
	for i := range long {
		long[i] = via[0]
	}
	if policy(req("https://cdn.example/rss"), long) == nil {
		t.Errorf("more than %d redirects are followed", maxRedirects)
	}
}
