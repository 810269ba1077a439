package smtptest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

const msg = "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n"

func send(t *testing.T, c *smtp.Client, to string) error {
	t.Helper()
	return c.SendMail("a@example.org", []string{to}, strings.NewReader(msg))
}

func dial(t *testing.T, s *Server) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestServer_Accept(t *testing.T) {
	s := Start(t)
	c := dial(t, s)
	if err := send(t, c, "b@example.org"); err != nil {
		t.Fatal(err)
	}
	got := s.WaitFor(t, 1, 5*time.Second)
	if len(got) != 1 || got[0].From != "a@example.org" || len(got[0].To) != 1 || got[0].To[0] != "b@example.org" {
		t.Fatalf("envelope: %+v", got)
	}
	if subj := got[0].Header.Get("Subject"); subj != "hi" {
		t.Errorf("Subject = %q", subj)
	}
	if !strings.HasSuffix(string(got[0].Data), "body\r\n") {
		t.Errorf("Data = %q", got[0].Data)
	}
}

func TestServer_TemporaryThenAccept(t *testing.T) {
	s := Start(t)
	s.FailRcpt("Bob@example.org", Temporary(2))
	c := dial(t, s)
	for i := range 2 {
		err := send(t, c, "bob@example.org")
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 7, 1}) {
			t.Fatalf("attempt %d: want 451 4.7.1, got %v", i+1, err)
		}
		_ = c.Reset()
	}
	if err := send(t, c, "bob@example.org"); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if n := s.Count(); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
}

func TestServer_Permanent(t *testing.T) {
	s := Start(t)
	s.FailRcpt("gone@example.org", Permanent("5.1.1"))
	s.FailRcpt("full@example.org", Reject(552, "5.2.2", "mailbox full"))
	c := dial(t, s)
	for _, tc := range []struct {
		to   string
		code int
	}{{"gone@example.org", 550}, {"gone@example.org", 550}, {"full@example.org", 552}} {
		if got := smtpCode(send(t, c, tc.to)); got != tc.code {
			t.Errorf("%s: code %d, want %d", tc.to, got, tc.code)
		}
		_ = c.Reset()
	}
	if err := send(t, c, "other@example.org"); err != nil {
		t.Errorf("other address rejected: %v", err)
	}
}

func TestServer_DataFault(t *testing.T) {
	s := Start(t)
	s.FailData("*", Reject(554, "5.7.1", "spam"))
	if got := smtpCode(send(t, dial(t, s), "x@example.org")); got != 554 {
		t.Errorf("code %d, want 554", got)
	}
	if s.Count() != 0 {
		t.Errorf("rejected message counted")
	}
}

func TestServer_Drop(t *testing.T) {
	for _, st := range []string{"rcpt", "data"} {
		t.Run(st, func(t *testing.T) {
			s := Start(t)
			if st == "rcpt" {
				s.FailRcpt("x@example.org", Drop().Times(1))
			} else {
				s.FailData("x@example.org", Drop().Times(1))
			}
			err := send(t, dial(t, s), "x@example.org")
			if err == nil || smtpCode(err) != 0 {
				t.Fatalf("want a network error, got %v", err)
			}
			// The rule is used up: a new connection gets through.
			if err := send(t, dial(t, s), "x@example.org"); err != nil {
				t.Fatalf("after drop: %v", err)
			}
			if n := s.Count(); n != 1 {
				t.Errorf("Count = %d, want 1", n)
			}
		})
	}
}

func TestServer_Discard(t *testing.T) {
	s := Start(t, Discard())
	c := dial(t, s)
	for range 3 {
		if err := send(t, c, "b@example.org"); err != nil {
			t.Fatal(err)
		}
	}
	if s.Count() != 3 || len(s.Messages()) != 0 {
		t.Errorf("Count %d, Messages %d; want 3 and 0", s.Count(), len(s.Messages()))
	}
}

func TestServer_TLS(t *testing.T) {
	s := Start(t, WithStartTLS())
	c, err := smtp.DialStartTLS(s.Addr, s.ClientTLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := send(t, c, "b@example.org"); err != nil {
		t.Fatal(err)
	}

	si := Start(t, WithImplicitTLS())
	ci, err := smtp.DialTLS(si.Addr, si.ClientTLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ci.Close()
	if err := send(t, ci, "b@example.org"); err != nil {
		t.Fatal(err)
	}
}

func TestListen_RefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:25"} {
		if s, err := Listen(addr); err == nil {
			s.Close()
			t.Errorf("Listen(%q) succeeded", addr)
		}
	}
	s, err := Listen("[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	s.Close()
}

func TestServer_Block(t *testing.T) {
	t.Run("UntilReleased", func(t *testing.T) {
		s := Start(t)
		release := make(chan struct{})
		hit := make(chan string, 1)
		s.FailRcpt("x@example.org", Block(release).OnHit(func(addr string) { hit <- addr }).Times(1))
		errc := make(chan error, 1)
		c := dial(t, s)
		go func() { errc <- send(t, c, "x@example.org") }()
		if addr := <-hit; addr != "x@example.org" {
			t.Fatalf("OnHit got %q", addr)
		}
		select {
		case err := <-errc:
			t.Fatalf("the answer came before the release: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		close(release)
		if err := <-errc; err == nil || smtpCode(err) != 0 {
			t.Fatalf("want a dropped connection after the release, got %v", err)
		}
		if err := send(t, dial(t, s), "x@example.org"); err != nil || s.Count() != 1 {
			t.Fatalf("after the block: %v, %d accepted", err, s.Count())
		}
	})
	t.Run("CloseReleases", func(t *testing.T) {
		s := Start(t)
		hit := make(chan string, 1)
		s.FailRcpt("*", Block(nil).OnHit(func(addr string) { hit <- addr }))
		errc := make(chan error, 1)
		c := dial(t, s)
		go func() { errc <- send(t, c, "y@example.org") }()
		<-hit
		s.Close()
		if err := <-errc; err == nil {
			t.Fatal("want an error after Close")
		}
	})
}

func TestServer_Hold(t *testing.T) {
	s := Start(t)
	release := make(chan struct{})
	hit := make(chan string, 1)
	s.FailData("x@example.org", Hold(release).OnHit(func(addr string) { hit <- addr }))
	errc := make(chan error, 1)
	c := dial(t, s)
	go func() { errc <- send(t, c, "x@example.org") }()
	<-hit
	if n := s.Count(); n != 0 {
		t.Fatalf("Count = %d while held, want 0", n)
	}
	close(release)
	if err := <-errc; err != nil || s.Count() != 1 {
		t.Fatalf("after the release: %v, %d accepted; want accepted", err, s.Count())
	}
}

func TestServer_PipeliningOptionsAndFailMail(t *testing.T) {
	s := Start(t, WithReadLog())
	c := dial(t, s)
	if ok, _ := c.Extension("PIPELINING"); !ok {
		t.Errorf("PIPELINING not announced by default")
	}
	s.FailMail("blocked@example.org", Reject(550, "5.7.1", "sender rejected"))
	err := c.SendMail("blocked@example.org", []string{"b@example.org"}, strings.NewReader(msg))
	if smtpCode(err) != 550 {
		t.Errorf("refused sender: %v, want 550", err)
	}
	_ = c.Reset()
	if err := send(t, c, "b@example.org"); err != nil {
		t.Fatal(err)
	}
	if s.Count() != 1 || s.Connections() != 1 {
		t.Errorf("count %d, connections %d; want 1 and 1", s.Count(), s.Connections())
	}
	if r := strings.Join(s.Reads(), ""); !strings.Contains(r, "MAIL FROM:<blocked@example.org>") || !strings.Contains(r, "\r\n.\r\n") {
		t.Errorf("read log misses the commands or the body: %q", r)
	}

	s2 := Start(t, WithoutPipelining())
	c2 := dial(t, s2)
	if ok, _ := c2.Extension("PIPELINING"); ok {
		t.Errorf("PIPELINING announced WithoutPipelining")
	}
	if ok, _ := c2.Extension("8BITMIME"); !ok {
		t.Errorf("8BITMIME lost with PIPELINING")
	}
	if err := send(t, c2, "b@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("127.0.0.1:0", WithStartTLS(), WithReadLog()); err == nil {
		t.Errorf("Listen accepted WithReadLog with TLS")
	}
}
