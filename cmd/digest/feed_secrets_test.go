package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/articles"
	"github.com/kommune21/digest/store/storetest"
)

const (
	feedPassword = "FeedPw9sec"
	feedToken    = "FeedTok7sec"
)

// feedWithSecrets serves the sample feed at /ok, an error at /fail and an
// HTML page at /html, to URLs carrying a password and a token.
func feedWithSecrets(t *testing.T) (ok, fail, html, down string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write(articles.SampleFeed)
		case "/html":
			_, _ = w.Write([]byte("<html><body>x</body></html>"))
		default:
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(srv.Close)
	withSecrets := func(base, path string) string {
		return strings.Replace(base, "http://", "http://staff:"+feedPassword+"@", 1) + path + "?token=" + feedToken + "&x=1"
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	return withSecrets(srv.URL, "/ok"), withSecrets(srv.URL, "/fail"), withSecrets(srv.URL, "/html"), withSecrets(closedURL, "/down")
}

func assertNoFeedSecret(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{feedPassword, feedToken} {
		if strings.Contains(out, s) {
			t.Errorf("%s shows the feed URL's secret %q:\n%s", what, s, out)
		}
	}
}

// TestArticlesImport_FeedURLSecrets: a feed URL's password and token appear
// in no output of `digest articles import`, failing or not.
func TestArticlesImport_FeedURLSecrets(t *testing.T) {
	db := storetest.SQLiteURL(t)
	if _, stderr, code := articlesRun(db, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	ok, fail, html, down := feedWithSecrets(t)
	for _, src := range []string{fail, html, down, ok} {
		stdout, stderr, code := articlesRun(db, "articles", "import", src)
		if (code == 0) != (src == ok) {
			t.Errorf("import %s: exit %d\n%s%s", src, code, stdout, stderr)
		}
		assertNoFeedSecret(t, "articles import", stdout+stderr)
		if !strings.Contains(stdout+stderr, "staff:xxxxx@") {
			t.Errorf("the output does not name the feed (redacted):\n%s%s", stdout, stderr)
		}
	}
	stdout, stderr, _ := articlesRun(db, "articles", "import", fail, down, ok)
	assertNoFeedSecret(t, "articles import of three feeds", stdout+stderr)
}

// TestServe_FeedLogSecrets: the serve daemon's feed-poll log never shows a
// feed URL's password or token.
func TestServe_FeedLogSecrets(t *testing.T) {
	ok, fail, _, _ := feedWithSecrets(t)
	env := migratedEnv(t, map[string]string{
		"DIGEST_SECRET":   "0123456789abcdef0123",
		"DIGEST_SMTP":     "file:" + t.TempDir(),
		"DIGEST_SCHEDULE": "@every 1h", "DIGEST_SCHEDULE_DAILY": "@every 1h",
		"DIGEST_FEEDS": ok + "," + fail,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, envOf(env), nil, &out, &errOut) }()
	deadline := time.Now().Add(30 * time.Second)
	for !(strings.Contains(errOut.String(), "feed polled") && strings.Contains(errOut.String(), "403")) {
		if time.Now().After(deadline) {
			t.Fatalf("no feed poll in the log:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop")
	}
	assertNoFeedSecret(t, "the serve log", out.String()+errOut.String())
	if !strings.Contains(errOut.String(), "staff:xxxxx@") {
		t.Errorf("the log does not name the feeds (redacted):\n%s", errOut.String())
	}
}
