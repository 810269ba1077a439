package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in parallel.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envOf(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// migratedEnv returns an environment with a fresh, migrated SQLite database.
func migratedEnv(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{"DIGEST_DB": "sqlite:" + filepath.Join(t.TempDir(), "digest.db")}
	for k, v := range extra {
		env[k] = v
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, envOf(env), nil, &out, &out); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	return env
}

// testApp builds an app as dispatch does, for calling helpers directly.
func testApp(t *testing.T, env map[string]string) *app {
	t.Helper()
	cfg, err := LoadConfig(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	a := &app{ctx: context.Background(), getenv: envOf(env), stdout: io.Discard, stderr: &errOut, cfg: cfg,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	t.Cleanup(a.close)
	return a
}

func TestServe_BadSchedule(t *testing.T) {
	for _, tc := range []struct{ env, spec string }{
		{"DIGEST_SCHEDULE", "CRON_TZ=UTC"},
		{"DIGEST_SCHEDULE_DAILY", "0 7 * *"},
		{"DIGEST_SCHEDULE", "@every 100ms"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"serve"}, envOf(map[string]string{tc.env: tc.spec}), nil, &out, &errOut)
		if exitCode(err) != 2 {
			t.Errorf("%s=%q: exit %d (%v), want 2", tc.env, tc.spec, exitCode(err), err)
		}
		if want := fmt.Sprintf("%s=%q", tc.env, tc.spec); !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr %q does not name %s", errOut.String(), want)
		}
	}
}

func TestSigner_Source(t *testing.T) {
	t.Run("StoredKeyIsStable", func(t *testing.T) {
		env := migratedEnv(t, nil)
		s1, err := testApp(t, env).signer()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := testApp(t, env).signer() // another process on the same database
		if err != nil {
			t.Fatal(err)
		}
		tok := s1.Token(subscribers.PurposeUnsubscribe, 5, "a@example.org")
		if c, err := s2.Verify(tok, subscribers.PurposeUnsubscribe); err != nil || c.ID != 5 {
			t.Fatalf("second signer rejects the first one's token: %v", err)
		}
		a := testApp(t, env)
		db, _ := a.openDB()
		var n int
		if err := db.GetContext(a.ctx, &n, `SELECT count(*) FROM settings WHERE name = 'link_secret' AND length(value) >= 40`); err != nil || n != 1 {
			t.Fatalf("settings rows = %d, %v", n, err)
		}
	})
	t.Run("DIGEST_SECRET", func(t *testing.T) {
		env := migratedEnv(t, map[string]string{"DIGEST_SECRET": "k7:0123456789abcdef0123,k6:fedcba9876543210fedc"})
		s, err := testApp(t, env).signer()
		if err != nil || s.KeyID() != "k7" {
			t.Fatalf("signer = %v, %v; want key id k7", s, err)
		}
		// A single value is a whole key: its id is "0", never a part of it.
		env = migratedEnv(t, map[string]string{"DIGEST_SECRET": "Geheim2026:0123456789abcdef0123"})
		if s, err = testApp(t, env).signer(); err != nil || s.KeyID() != "0" {
			t.Fatalf("signer = %v, %v; want key id 0", s, err)
		}
	})
	t.Run("BadSecretNotShown", func(t *testing.T) {
		const secret = "tooshort-geheim"
		_, err := testApp(t, migratedEnv(t, map[string]string{"DIGEST_SECRET": secret})).signer()
		if err == nil || !strings.Contains(err.Error(), "DIGEST_SECRET") || strings.Contains(err.Error(), secret) {
			t.Fatalf("err = %v: want it to name DIGEST_SECRET without its value", err)
		}
	})
}

func TestSendConfirmation_LinkConfirms(t *testing.T) {
	srv := smtptest.Start(t)
	env := migratedEnv(t, map[string]string{
		"DIGEST_SMTP":     "smtp://" + srv.Addr + "?tls=none",
		"DIGEST_BASE_URL": "https://digest.example.org",
		"DIGEST_FROM":     "Kommune21 Digest <digest@example.org>",
	})
	a := testApp(t, env)
	db, err := a.openDB()
	if err != nil {
		t.Fatal(err)
	}
	st := subscribers.NewStore(db, nil)
	sub := subscribers.Subscriber{Email: "Jörg.Müller@Example.org", Name: "Jörg Müller", Status: subscribers.StatusPending}
	if err := st.Create(a.ctx, &sub); err != nil {
		t.Fatal(err)
	}
	if err := a.sendConfirmation(sub); err != nil {
		t.Fatal(err)
	}
	msgs := srv.WaitFor(t, 1, 10*time.Second)
	m := msgs[0]
	if len(m.To) != 1 || m.To[0] != sub.Email {
		t.Errorf("envelope To = %v", m.To)
	}
	if got := m.Header.Get("List-Unsubscribe"); got != "" {
		t.Errorf("confirmation has List-Unsubscribe %q: it is not a newsletter", got)
	}
	link := regexp.MustCompile(`https://digest\.example\.org/confirm\?t=[A-Za-z0-9_.=-]+`).Find(decodeQP(m.Data))
	if link == nil {
		t.Fatalf("no confirm link in the mail:\n%s", m.Data)
	}

	// Follow the link against the handler the daemon serves.
	signer, _ := a.signer()
	pages, _ := templates.NewPages()
	h, err := subscribers.NewHandler(subscribers.HandlerDeps{Store: st, Taxonomy: taxonomy.NewStore(db), DB: db, Signer: signer, Pages: pages, Site: a.newsletterName()})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(string(link))
	for _, method := range []string{"GET", "POST"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, u.RequestURI(), nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s = %d\n%s", method, u.RequestURI(), rec.Code, rec.Body)
		}
	}
	got, _ := st.Get(a.ctx, sub.ID)
	if got.Status != subscribers.StatusActive || got.Consent.Source != subscribers.ConsentSourceConfirmLink {
		t.Fatalf("after following the link: %+v", got)
	}
}

// decodeQP undoes quoted-printable soft line breaks and =3D so links can be found.
func decodeQP(b []byte) []byte {
	s := strings.ReplaceAll(string(b), "=\r\n", "")
	return []byte(strings.ReplaceAll(s, "=3D", "="))
}

func TestServe_RunsAndStops(t *testing.T) {
	env := migratedEnv(t, map[string]string{
		"DIGEST_SECRET":   "0123456789abcdef0123",
		"DIGEST_SMTP":     "file:" + t.TempDir(),
		"DIGEST_SCHEDULE": "@every 1h", "DIGEST_SCHEDULE_DAILY": "@every 1h",
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, envOf(env), nil, &out, &errOut) }()
	addrRE := regexp.MustCompile(`msg=serving addr=(127\.0\.0\.1:\d+)`)
	var addr string
	deadline := time.Now().Add(20 * time.Second)
	for addr == "" {
		if m := addrRE.FindStringSubmatch(errOut.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("daemon did not start:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz = %d %q", resp.StatusCode, body)
	}
	cancel() // what SIGTERM does through main's signal context
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v, want nil (exit 0)\n%s", err, errOut.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
	if strings.Contains(errOut.String(), "0123456789abcdef0123") {
		t.Error("the secret appears in the log")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}
