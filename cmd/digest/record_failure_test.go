package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store"
)

// When the outcome of a delivery cannot be recorded, `digest run` says so in
// one storage: line, never as a network trouble, and stops sending.
func TestRun_RecordFailureIsStorage(t *testing.T) {
	at := time.Date(2026, 2, 23, 7, 0, 0, 0, time.UTC)
	eachCLI(t, func(t *testing.T, c *cli) {
		srv := smtptest.Start(t)
		c.env["DIGEST_SMTP"] = "smtp://" + srv.Addr + "?tls=none"
		previewSetup(t, c, at)
		ctx := context.Background()
		db, err := store.Open(ctx, c.env["DIGEST_DB"])
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		stmts := []string{`CREATE TRIGGER record_fails BEFORE UPDATE OF status ON deliveries WHEN NEW.status = 'sent'
			BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`}
		if db.Dialect == store.Postgres {
			stmts = []string{`CREATE FUNCTION record_fails() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF NEW.status = 'sent' THEN RAISE EXCEPTION 'No space left on device'; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER record_fails BEFORE UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION record_fails()`}
		}
		for _, q := range stmts {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		errOut := c.fail(1, "run", "--at", at.Format(time.RFC3339))
		var lines []string // the error lines, not the log
		for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
			if strings.HasPrefix(l, "digest: ") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "digest: storage: could not record that delivery ") ||
			!strings.Contains(lines[0], " was accepted: ") ||
			!strings.HasSuffix(lines[0], "; stopped sending; the next run re-sends at most the messages in flight") ||
			strings.Contains(errOut, "network") {
			t.Fatalf("stderr = %q, want one storage: line", errOut)
		}
		if n := srv.Count(); n < 1 || n > 4 {
			t.Errorf("server received %d messages, want 1 to 4 (the workers' messages in flight)", n)
		}
	})
}
