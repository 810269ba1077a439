package mailer_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
)

// Over SMTP, Hold runs once the body is out and before the server accepts
// the message; a Hold error leaves the message unaccepted and the next Send
// works on a new connection.
func TestSend_Hold(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	ctx := context.Background()

	m := sample("r1.d1@digest.kommune21.example", "a@example.org")
	calls := 0
	m.Hold = func() error {
		calls++
		if n := s.Count(); n != 0 {
			t.Errorf("server had accepted %d messages when Hold ran, want 0", n)
		}
		return nil
	}
	if err := c.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || s.Count() != 1 {
		t.Fatalf("Hold called %d times, server has %d messages; want 1 and 1", calls, s.Count())
	}

	refuse := errors.New("previous record failed")
	m = sample("r1.d2@digest.kommune21.example", "b@example.org")
	m.Hold = func() error { return refuse }
	err := c.Send(ctx, m)
	var he *mailer.HoldError
	if !errors.As(err, &he) || !errors.Is(err, refuse) || he.MessageID != m.MessageID {
		t.Fatalf("Send with a failing Hold = %v (%T), want a *HoldError wrapping the cause", err, err)
	}
	time.Sleep(50 * time.Millisecond) // the server would have taken it by now
	if n := s.Count(); n != 1 {
		t.Fatalf("server has %d messages after a failed Hold, want 1: the held message must not be accepted", n)
	}

	m = sample("r1.d3@digest.kommune21.example", "c@example.org")
	if err := c.Send(ctx, m); err != nil {
		t.Fatalf("Send after a failed Hold: %v", err)
	}
	if n := s.Count(); n != 2 {
		t.Fatalf("server has %d messages, want 2", n)
	}
}

// A failure before the body (a refused recipient) never reaches Hold.
func TestSend_HoldNotReachedOnRefusal(t *testing.T) {
	s := smtptest.Start(t)
	s.FailRcpt("x@example.org", smtptest.Permanent("5.1.1"))
	c := open(t, loopback(t, s))
	m := sample("r1.d1@digest.kommune21.example", "x@example.org")
	m.Hold = func() error { t.Error("Hold called for a refused recipient"); return nil }
	if err := c.Send(context.Background(), m); mailer.Classify(err).Kind != mailer.Failed {
		t.Fatalf("Send = %v, want a permanent failure", err)
	}
}

// The file transport holds before the file appears; a Hold error writes nothing.
func TestFileTransport_Hold(t *testing.T) {
	dir := t.TempDir()
	cfg, err := mailer.ParseURL("file:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, tr)
	m := sample("r1.d1@digest.kommune21.example", "a@example.org")
	m.Hold = func() error { return errors.New("no") }
	if err := c.Send(context.Background(), m); !errors.As(err, new(*mailer.HoldError)) {
		t.Fatalf("Send = %v, want a *HoldError", err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Fatalf("%d files written after a failed Hold, want none", len(names))
	}
}
