package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
)

func TestClassify_AgainstServer(t *testing.T) {
	s := smtptest.Start(t)
	s.FailRcpt("later@example.org", smtptest.Temporary(1))
	s.FailRcpt("gone@example.org", smtptest.Permanent("5.1.1"))
	s.FailRcpt("moved@example.org", smtptest.Reject(550, "5.1.10", "null MX"))
	s.FailData("spam@example.org", smtptest.Reject(554, "5.7.1", "message rejected"))
	s.FailRcpt("full@example.org", smtptest.Reject(552, "5.2.2", "mailbox full"))
	s.FailRcpt("nohost@example.org", smtptest.Reject(550, "5.4.1", "no answer from host"))
	s.FailData("loop@example.org", smtptest.Reject(554, "5.4.4", "unable to route"))
	c := open(t, loopback(t, s))

	for _, tc := range []struct {
		to       string
		kind     mailer.Kind
		bounce   bool
		code     int
		enhanced string
		reason   string
	}{
		{"later@example.org", mailer.Retry, false, 451, "4.7.1", "451 4.7.1 try again later"},
		{"gone@example.org", mailer.Failed, true, 550, "5.1.1", "550 5.1.1 mailbox unknown"},
		{"moved@example.org", mailer.Failed, true, 550, "5.1.10", "550 5.1.10 null MX"},
		{"spam@example.org", mailer.Failed, false, 554, "5.7.1", "554 5.7.1 message rejected"},
		{"full@example.org", mailer.Failed, false, 552, "5.2.2", "552 5.2.2 mailbox full"},
		{"nohost@example.org", mailer.Failed, true, 550, "5.4.1", "550 5.4.1 no answer from host"},
		{"loop@example.org", mailer.Failed, true, 554, "5.4.4", "554 5.4.4 unable to route"},
		{"later@example.org", mailer.Sent, false, 0, "", ""}, // the 451 was for the first attempt only
	} {
		err := c.Send(context.Background(), sample("c."+tc.to, tc.to))
		r := mailer.Classify(err)
		if r.Kind != tc.kind || r.Bounce != tc.bounce || r.Code != tc.code || r.Enhanced != tc.enhanced || r.Reason != tc.reason || r.Connection {
			t.Errorf("%s: Classify(%v) = %+v", tc.to, err, r)
		}
	}
	// Rejections leave the connection usable.
	if err := c.Send(context.Background(), sample("ok@x.example", "ok@example.org")); err != nil {
		t.Errorf("after rejections: %v", err)
	}
	if n := s.Count(); n != 2 {
		t.Errorf("server accepted %d messages, want 2", n)
	}
}

func TestSend_DroppedConnectionRedialsOnNextSend(t *testing.T) {
	s := smtptest.Start(t)
	// Dropped after the body was sent: the client cannot know whether the
	// message was accepted, so Send must not retry on its own.
	s.FailData("drop@example.org", smtptest.Drop().Times(1))
	c := open(t, loopback(t, s))

	err := c.Send(context.Background(), sample("d1@x.example", "drop@example.org"))
	r := mailer.Classify(err)
	if err == nil || r.Kind != mailer.Retry || r.Code != 0 || !r.Connection || !strings.HasPrefix(r.Reason, "network: ") {
		t.Fatalf("dropped connection: %v → %+v", err, r)
	}
	if err := c.Send(context.Background(), sample("d2@x.example", "drop@example.org")); err != nil {
		t.Fatalf("next Send on the same Conn: %v", err)
	}
	got := s.WaitFor(t, 1, 5*time.Second)
	if len(got) != 1 || got[0].Header.Get("Message-Id") != "<d2@x.example>" {
		t.Errorf("received %d messages, want only d2", len(got))
	}
}

func TestSend_StaleConnectionIsRedialedOnce(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	if err := c.Send(context.Background(), sample("s1@x.example", "a@example.org")); err != nil {
		t.Fatal(err)
	}
	// The server drops the reused connection before any content: Send
	// redials and the message goes out, exactly once.
	s.FailRcpt("b@example.org", smtptest.Drop().Times(1))
	if err := c.Send(context.Background(), sample("s2@x.example", "b@example.org")); err != nil {
		t.Fatalf("Send after drop at RCPT: %v", err)
	}
	if got := s.WaitFor(t, 2, 5*time.Second); len(got) != 2 {
		t.Errorf("received %d messages, want 2", len(got))
	}
	// A server that keeps dropping is reported, not retried forever.
	s.FailRcpt("c@example.org", smtptest.Drop())
	err := c.Send(context.Background(), sample("s3@x.example", "c@example.org"))
	if r := mailer.Classify(err); r.Kind != mailer.Retry || !r.Connection {
		t.Errorf("always dropping: %v → %+v", err, r)
	}
}

func TestClassify_Errors(t *testing.T) {
	for name, tc := range map[string]struct {
		err    error
		kind   mailer.Kind
		conn   bool
		reason string
	}{
		"nil":      {nil, mailer.Sent, false, ""},
		"message":  {&mailer.MessageError{Field: "To", Problem: "is empty"}, mailer.Failed, false, "invalid message: To is empty"},
		"canceled": {fmt.Errorf("send: %w", context.Canceled), mailer.Retry, false, "canceled"},
		"eof":      {fmt.Errorf("read: %w", io.EOF), mailer.Retry, true, "network: connection closed by server"},
		"dial 535": {&mailer.DialError{Transport: "smtp://u:xxxxx@h:587", Err: errors.New("535 5.7.8 authentication failed")}, mailer.Retry, true, "connect: 535 5.7.8 authentication failed"},
		"refused":  {&mailer.DialError{Transport: "smtp://h:587", Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}, mailer.Retry, true, "connect: connection refused"},
		"other":    {errors.New("write message x@y: no space left on device"), mailer.Retry, false, "write message <addr>: no space left on device"},
	} {
		r := mailer.Classify(tc.err)
		if r.Kind != tc.kind || r.Connection != tc.conn || r.Reason != tc.reason || r.Bounce {
			t.Errorf("%s: Classify = %+v, want kind %v conn %v reason %q", name, r, tc.kind, tc.conn, tc.reason)
		}
	}
}

func TestOpen_RefusedConnection(t *testing.T) {
	s := smtptest.Start(t)
	tr := loopback(t, s)
	_ = s.Close()
	_, err := tr.Open(context.Background())
	if r := mailer.Classify(err); err == nil || r.Kind != mailer.Retry || !r.Connection || r.Reason != "connect: connection refused" {
		t.Errorf("Open to a closed port: %v → %+v", err, r)
	}
}

func TestSend_SlowServerTimesOut(t *testing.T) {
	s := smtptest.Start(t)
	s.FailData("slow@example.org", smtptest.Delay(3*time.Second).Times(1))
	cfg, _ := mailer.ParseURL("smtp://" + s.Addr + "?tls=none")
	cfg.Timeout = 300 * time.Millisecond
	tr, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, tr)
	err = c.Send(context.Background(), sample("slow1@x.example", "slow@example.org"))
	if r := mailer.Classify(err); r.Kind != mailer.Retry || !r.Connection || r.Reason != "network: timeout" {
		t.Fatalf("slow server: %v → %+v", err, r)
	}
	if err := c.Send(context.Background(), sample("fast@x.example", "fast@example.org")); err != nil {
		t.Fatalf("next Send: %v", err)
	}
}
