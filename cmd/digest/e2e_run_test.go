package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store/storetest"
)

// These tests drive the real binary against a real SMTP server on loopback:
// a run killed with SIGKILL loses nobody and repeats at most one message per
// SMTP connection (the message whose acceptance was being recorded when the
// process died); two runs at once on PostgreSQL send every digest exactly once.

const (
	e2eWorkers = 4
	e2eBatch   = 16
	e2eAt      = "2026-02-23T07:00:00+01:00"
)

func e2eRunEnv(dbURL string, srv *smtptest.Server) []string {
	return append(os.Environ(),
		"DIGEST_DB="+dbURL,
		fmt.Sprintf("DIGEST_SMTP=smtp://%s?tls=none", srv.Addr),
		"DIGEST_FROM=Kommune21 Digest <digest@kommune21.example>",
		"DIGEST_BASE_URL=https://digest.kommune21.example",
		"DIGEST_SECRET=k1:e2e-secret-0123456789abcdef",
		fmt.Sprintf("DIGEST_SEND_WORKERS=%d", e2eWorkers),
		fmt.Sprintf("DIGEST_SEND_BATCH=%d", e2eBatch),
		"DIGEST_LOG_LEVEL=warn",
	)
}

// e2eSetup migrates a database, imports the sample feed and n confirmed
// subscribers who want everything, all through the binary.
func e2eSetup(t *testing.T, bin string, env []string, n int) {
	t.Helper()
	runBinary(t, bin, env, "migrate")
	runBinary(t, bin, env, "articles", "import", filepath.Join("..", "..", "articles", "sample", "kommune21.xml"), "--at", "2026-02-01T00:00:00+01:00")
	var csv strings.Builder
	csv.WriteString("email,name,regions,topics\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "leser%04d@example.org,Leser %d,,\n", i, i)
	}
	file := filepath.Join(t.TempDir(), "subscribers.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runBinary(t, bin, env, "subscribers", "import", file, "--confirmed")
}

// perRecipient counts the messages each address received.
func perRecipient(srv *smtptest.Server) map[string]int {
	m := map[string]int{}
	for _, r := range srv.Messages() {
		for _, to := range r.To {
			m[to]++
		}
	}
	return m
}

func runStats(t *testing.T, bin string, env []string) runJSON {
	t.Helper()
	var r runJSON
	out := runBinary(t, bin, env, "runs", "show", "--json")
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("runs show --json: %v\n%s", err, out)
	}
	return r
}

func TestE2E_RunKilledThenResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildBinary(t)
	for name, dbURL := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			const n = 300
			srv := smtptest.Start(t)
			env := e2eRunEnv(dbURL(t), srv)
			e2eSetup(t, bin, env, n)
			// Slow answers keep the run busy long enough to kill it in the middle.
			srv.FailData("*", smtptest.Delay(15*time.Millisecond))

			cmd := exec.Command(bin, "run", "--at", e2eAt)
			cmd.Env = env
			var out syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "the run to send a first part", func() bool { return srv.Count() >= n/4 })
			if err := cmd.Process.Kill(); err != nil { // SIGKILL: no chance to record anything
				t.Fatal(err)
			}
			cmd.Wait()
			atKill := srv.Count()
			if atKill >= n {
				t.Fatalf("the run finished (%d messages) before it could be killed; output:\n%s", atKill, out.String())
			}

			srv.FailData("*", smtptest.Delay(0))
			runBinary(t, bin, env, "run", "--at", e2eAt)

			got := perRecipient(srv)
			dups := 0
			for i := 0; i < n; i++ {
				addr := fmt.Sprintf("leser%04d@example.org", i)
				switch c := got[addr]; {
				case c == 0:
					t.Errorf("%s got nothing: lost by the crash", addr)
				case c > 1:
					dups += c - 1
				}
			}
			if dups > e2eWorkers {
				t.Errorf("%d duplicates, more than one per SMTP connection (%d connections)", dups, e2eWorkers)
			}
			if st := runStats(t, bin, env); st.Sent != n || st.Pending != 0 || st.Retry != 0 {
				t.Errorf("after the resume the run says %+v, want %d sent", st, n)
			}
			t.Logf("killed after %d messages; %d duplicates after the resume (bound %d)", atKill, dups, e2eWorkers)
		})
	}
}

func TestE2E_TwoRunsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary twice")
	}
	bin := buildBinary(t)
	const n = 400
	srv := smtptest.Start(t)
	env := e2eRunEnv(storetest.PostgresURL(t), srv)
	e2eSetup(t, bin, env, n)
	srv.FailData("*", smtptest.Delay(2*time.Millisecond))

	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "run", "--at", e2eAt)
			cmd.Env = env
			b, err := cmd.CombinedOutput()
			outs[i] = string(b)
			if err != nil {
				t.Errorf("run %d: %v\n%s", i, err, b)
			}
		}()
	}
	wg.Wait()
	got := perRecipient(srv)
	for i := 0; i < n; i++ {
		addr := fmt.Sprintf("leser%04d@example.org", i)
		if got[addr] != 1 {
			t.Errorf("%s got %d messages, want exactly 1", addr, got[addr])
		}
	}
	if len(got) != n {
		t.Errorf("%d recipients, want %d", len(got), n)
	}
	if st := runStats(t, bin, env); st.Sent != n {
		t.Errorf("run says %+v, want %d sent", st, n)
	}
	for i, o := range outs {
		t.Logf("run %d: %s", i, strings.TrimSpace(o))
	}
}
