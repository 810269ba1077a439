package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/metrics"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

func TestMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 2, 23, 6, 0, 0, 0, time.UTC)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO subscribers (id, email, email_key, status, created_at, updated_at) VALUES (1, 'a@x.example', 'a@x.example', 'active', ?, ?), (2, 'b@x.example', 'b@x.example', 'bounced', ?, ?)`, at, at, at, at)
		exec(`INSERT INTO runs (id, cadence, edition, at, created_at, planned_at, finished_at) VALUES (1, 'weekly', '2026-W08', ?, ?, ?, NULL), (2, 'weekly', '2026-W09', ?, ?, ?, ?)`,
			at, at, at, at.Add(time.Hour), at.Add(time.Hour), at.Add(time.Hour), at.Add(2*time.Hour))
		exec(`INSERT INTO deliveries (run_id, subscriber_id, status, updated_at) VALUES (1, 1, 'retry', ?), (2, 1, 'sent', ?), (2, 2, 'sent', ?)`, at, at, at)
		// The queue counts the open deliveries of every unfinished run, of any cadence.
		exec(`INSERT INTO runs (id, cadence, edition, at, created_at, planned_at) VALUES (3, 'daily', '2026-02-23', ?, ?, ?)`, at, at, at)
		exec(`INSERT INTO deliveries (run_id, subscriber_id, status, updated_at) VALUES (3, 1, 'pending', ?), (3, 2, 'pending', ?)`, at, at)
		exec(`INSERT INTO inbound_mails (fingerprint, received_at, kind, severity, outcome, subscriber_id) VALUES
			('a', ?, 'bounce', 'hard', 'applied', 2), ('b', ?, 'complaint', '', 'recorded', 1), ('c', ?, 'bounce', 'hard', 'unmatched', NULL), ('d', ?, 'auto-reply', '', 'ignored', NULL)`, at, at, at, at)

		srv := httptest.NewServer(metrics.Handler(db, nil))
		defer srv.Close()
		res, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("Content-Type %q", ct)
		}
		for _, want := range []string{
			`digest_deliveries{cadence="weekly",status="sent"} 2`,
			"digest_queue_depth 3",
			`digest_deliveries{cadence="daily",status="pending"} 2`,
			`digest_last_run_finished{cadence="daily"} 0`,
			`digest_last_run_timestamp_seconds{cadence="weekly"} 1771833600`,
			`digest_last_run_finished{cadence="weekly"} 1`,
			`digest_subscribers{status="bounced"} 1`,
			`digest_bounces_total{severity="hard"} 1`,
			`digest_bounces_total{severity="soft"} 0`,
			"digest_complaints_total 1",
			"digest_unmatched_mails_total 1",
			`digest_inbound_mails_total{kind="auto-reply",outcome="ignored"} 1`,
			"# TYPE digest_bounces_total counter",
		} {
			if !strings.Contains(string(body), want+"\n") {
				t.Errorf("missing %q in\n%s", want, body)
			}
		}
		if res, _ := http.Post(srv.URL+"/metrics", "text/plain", nil); res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /metrics: %d", res.StatusCode)
		}
		if res, _ := http.Get(srv.URL + "/subscribe"); res.StatusCode != http.StatusNotFound {
			t.Errorf("the metrics listener serves other paths: %d", res.StatusCode)
		}
	})
}
