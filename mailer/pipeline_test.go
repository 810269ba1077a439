package mailer_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
)

// envelopeOf is how the pipelined MAIL FROM, RCPT TO and DATA of one
// message arrive at go-smtp (which announces 8BITMIME): in one read.
func envelopeOf(from, to string) string {
	return "MAIL FROM:<" + from + "> BODY=8BITMIME\r\nRCPT TO:<" + to + ">\r\nDATA\r\n"
}

func countReads(reads []string, want string) int {
	n := 0
	for _, r := range reads {
		if r == want {
			n++
		}
	}
	return n
}

// A server that announces PIPELINING gets MAIL FROM, RCPT TO and DATA of
// each message in one write, on one connection for all messages.
func TestSend_Pipelined(t *testing.T) {
	s := smtptest.Start(t, smtptest.WithReadLog())
	c := open(t, loopback(t, s))
	to := []string{"anna@example.org", "bert@example.org", "carl@example.org"}
	for i, addr := range to {
		if err := c.Send(context.Background(), sample("p"+string(rune('1'+i))+"@x.example", addr)); err != nil {
			t.Fatal(err)
		}
	}
	got := s.WaitFor(t, 3, 5*time.Second)
	for i, r := range got {
		if r.From != "digest@kommune21.example" || len(r.To) != 1 || r.To[0] != to[i] {
			t.Errorf("message %d: envelope from %q to %q, want %s", i, r.From, r.To, to[i])
		}
		if h := parse(t, r.Data).Header; !strings.Contains(h.Get("To"), to[i]) {
			t.Errorf("message %d: To %q", i, h.Get("To"))
		}
	}
	reads := s.Reads()
	for _, addr := range to {
		if n := countReads(reads, envelopeOf("digest@kommune21.example", addr)); n != 1 {
			t.Errorf("%s: MAIL, RCPT and DATA arrived together %d times, want 1; reads: %q", addr, n, reads)
		}
	}
	if n := s.Connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// Without PIPELINING each command waits for its reply, as before.
func TestSend_WithoutPipelining(t *testing.T) {
	s := smtptest.Start(t, smtptest.WithoutPipelining(), smtptest.WithReadLog())
	s.FailRcpt("gone@example.org", smtptest.Permanent("5.1.1"))
	c := open(t, loopback(t, s))
	for _, addr := range []string{"anna@example.org", "gone@example.org", "bert@example.org"} {
		err := c.Send(context.Background(), sample("np."+addr, addr))
		if want := addr != "gone@example.org"; (err == nil) != want {
			t.Errorf("%s: Send = %v", addr, err)
		}
	}
	if got := s.WaitFor(t, 2, 5*time.Second); got[0].To[0] != "anna@example.org" || got[1].To[0] != "bert@example.org" {
		t.Errorf("received %q, %q", got[0].To, got[1].To)
	}
	reads := s.Reads()
	if n := countReads(reads, "MAIL FROM:<digest@kommune21.example> BODY=8BITMIME\r\n"); n != 3 {
		t.Errorf("MAIL FROM alone in a read %d times, want 3; reads: %q", n, reads)
	}
	for _, addr := range []string{"anna@example.org", "bert@example.org"} {
		if n := countReads(reads, "RCPT TO:<"+addr+">\r\n"); n != 1 {
			t.Errorf("RCPT TO:<%s> alone in a read %d times, want 1; reads: %q", addr, n, reads)
		}
	}
	if n := s.Connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// Refused senders and recipients (5xx and 4xx) give the same errors and the
// same classification with and without pipelining, and the next message
// goes out on the same connection.
func TestSend_PipelinedRefusals(t *testing.T) {
	type outcome struct {
		err string
		r   mailer.Result
	}
	run := func(t *testing.T, opts ...smtptest.Option) []outcome {
		s := smtptest.Start(t, opts...)
		s.FailRcpt("gone@example.org", smtptest.Permanent("5.1.1"))
		s.FailRcpt("later@example.org", smtptest.Temporary(1))
		s.FailRcpt("busy@example.org", smtptest.Reject(452, "4.2.2", "mailbox full, try later"))
		s.FailMail("blocked@kommune21.example", smtptest.Reject(550, "5.7.1", "sender rejected"))
		s.FailMail("slow@kommune21.example", smtptest.Reject(451, "4.3.0", "sender check unavailable"))
		s.FailData("spam@example.org", smtptest.Reject(554, "5.7.1", "message rejected"))
		c := open(t, loopback(t, s))
		var out []outcome
		ok := 0
		for _, tc := range []struct{ from, to string }{
			{"", "gone@example.org"},
			{"", "later@example.org"},
			{"", "busy@example.org"},
			{"blocked@kommune21.example", "a@example.org"},
			{"slow@kommune21.example", "a@example.org"},
			{"", "spam@example.org"},
			{"", "later@example.org"}, // the 451 was for the first attempt only
		} {
			m := sample("r."+tc.to, tc.to)
			m.EnvelopeFrom = tc.from
			err := c.Send(context.Background(), m)
			o := outcome{r: mailer.Classify(err)}
			if err != nil {
				o.err = err.Error()
			} else {
				ok++
			}
			out = append(out, o)
			// The next message after each refusal goes through.
			if err := c.Send(context.Background(), sample("ok."+tc.to, "ok@example.org")); err != nil {
				t.Errorf("after %s → %s: %v", tc.from, tc.to, err)
			} else {
				ok++
			}
		}
		if n := s.Count(); n != ok {
			t.Errorf("server accepted %d messages, want %d", n, ok)
		}
		if n := s.Connections(); n != 1 {
			t.Errorf("%d connections, want 1: a refusal must not cost the connection", n)
		}
		return out
	}
	var piped, plain []outcome
	t.Run("pipelining", func(t *testing.T) { piped = run(t) })
	t.Run("no pipelining", func(t *testing.T) { plain = run(t, smtptest.WithoutPipelining()) })
	want := []outcome{
		{`SMTP RCPT TO: 550 "5.1.1 mailbox unknown"`, mailer.Result{Kind: mailer.Failed, Bounce: true, Code: 550, Enhanced: "5.1.1", Reason: "550 5.1.1 mailbox unknown"}},
		{`SMTP RCPT TO: 451 "4.7.1 try again later"`, mailer.Result{Kind: mailer.Retry, Code: 451, Enhanced: "4.7.1", Reason: "451 4.7.1 try again later"}},
		{`SMTP RCPT TO: 452 "4.2.2 mailbox full, try later"`, mailer.Result{Kind: mailer.Retry, Code: 452, Enhanced: "4.2.2", Reason: "452 4.2.2 mailbox full, try later"}},
		{`SMTP MAIL FROM: 550 "5.7.1 sender rejected"`, mailer.Result{Kind: mailer.Failed, Code: 550, Enhanced: "5.7.1", Reason: "550 5.7.1 sender rejected"}},
		{`SMTP MAIL FROM: 451 "4.3.0 sender check unavailable"`, mailer.Result{Kind: mailer.Retry, Code: 451, Enhanced: "4.3.0", Reason: "451 4.3.0 sender check unavailable"}},
		{`SMTP message: 554 "5.7.1 message rejected"`, mailer.Result{Kind: mailer.Failed, Code: 554, Enhanced: "5.7.1", Reason: "554 5.7.1 message rejected"}},
		{"", mailer.Result{Kind: mailer.Sent}},
	}
	for i := range want {
		if i >= len(piped) || i >= len(plain) {
			t.Fatalf("%d and %d outcomes, want %d", len(piped), len(plain), len(want))
		}
		if piped[i] != want[i] || plain[i] != want[i] {
			t.Errorf("case %d:\n pipelined %+v\n plain     %+v\n want      %+v", i, piped[i], plain[i], want[i])
		}
	}
}

// Hold still holds the final dot with pipelining and without.
func TestSend_HoldWithAndWithoutPipelining(t *testing.T) {
	for name, opts := range map[string][]smtptest.Option{
		"pipelining":    nil,
		"no pipelining": {smtptest.WithoutPipelining()},
	} {
		t.Run(name, func(t *testing.T) {
			s := smtptest.Start(t, opts...)
			c := open(t, loopback(t, s))
			m := sample("h1@x.example", "a@example.org")
			release := make(chan struct{})
			held := make(chan struct{})
			m.Hold = func() error {
				close(held)
				<-release
				return nil
			}
			done := make(chan error, 1)
			go func() { done <- c.Send(context.Background(), m) }()
			<-held
			time.Sleep(50 * time.Millisecond) // the server would have accepted a finished message by now
			if n := s.Count(); n != 0 {
				t.Errorf("server accepted %d messages while Hold ran, want 0", n)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			m = sample("h2@x.example", "b@example.org")
			m.Hold = func() error { return errors.New("no") }
			if err := c.Send(context.Background(), m); !errors.As(err, new(*mailer.HoldError)) {
				t.Fatalf("Send = %v, want a *HoldError", err)
			}
			if err := c.Send(context.Background(), sample("h3@x.example", "c@example.org")); err != nil {
				t.Fatal(err)
			}
			got := s.WaitFor(t, 2, 5*time.Second)
			if len(got) != 2 || got[0].To[0] != "a@example.org" || got[1].To[0] != "c@example.org" {
				t.Errorf("received %d messages: %+v", len(got), got)
			}
			if n := s.Connections(); n != 2 {
				t.Errorf("%d connections, want 2 (a failed Hold drops the connection)", n)
			}
		})
	}
}

// scripted is a minimal SMTP server on loopback that announces PIPELINING
// and answers MAIL, RCPT and DATA as its connection's script says, for the
// misbehaving servers go-smtp cannot imitate. A script entry "close" closes
// the connection instead of answering. It records, per connection, what the
// client sent after the script ran out of answers (nothing, when the client
// dropped the connection).
type scripted struct {
	addr    string
	scripts [][3]string // per connection: the answers to MAIL, RCPT and DATA
	plain   bool        // see startScriptedPlain
	mu      sync.Mutex
	conns   int
	rest    []string
	got     []string // plain: the recipient of each message accepted
}

func startScripted(t *testing.T, scripts ...[3]string) *scripted {
	t.Helper()
	return listenScripted(t, false, scripts)
}

// listenScripted sets every field before the accept loop starts, so the
// connection goroutines only ever read them.
func listenScripted(t *testing.T, plain bool, scripts [][3]string) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	s := &scripted{addr: ln.Addr().String(), scripts: scripts, plain: plain}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			i := s.conns
			s.conns++
			s.rest = append(s.rest, "")
			s.mu.Unlock()
			go s.serve(c, i)
		}
	}()
	return s
}

// startScriptedPlain starts a scripted server that does not announce
// PIPELINING and keeps each connection's transaction as a real relay does:
// the first transaction is answered as script says, later ones are
// accepted, and a sender and recipient stay set until the message is
// accepted or the client sends RSET, so a MAIL while they are set is
// refused with 503 (Postfix's "nested MAIL command").
func startScriptedPlain(t *testing.T, script [3]string) *scripted {
	t.Helper()
	return listenScripted(t, true, [][3]string{script})
}

func (s *scripted) serve(c net.Conn, i int) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = io.WriteString(c, line+"\r\n") }
	say("220 scripted ESMTP")
	if s.plain {
		s.servePlain(r, say, i)
		return
	}
	script := [3]string{"250 2.1.0 ok", "250 2.1.5 ok", "354 go ahead"}
	if i < len(s.scripts) {
		script = s.scripts[i]
	}
	step := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch {
		case verb == "EHLO":
			say("250-scripted\r\n250-PIPELINING\r\n250 8BITMIME")
		case verb == "QUIT":
			say("221 bye")
			return
		case verb == "RSET" || verb == "NOOP":
			say("250 2.0.0 ok")
		case step < 3:
			answer := script[step]
			step++
			if answer == "close" {
				return
			}
			say(answer)
			if answer == "354 go ahead" && i >= len(s.scripts) {
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
				}
				say("250 2.0.0 queued")
				step = 0
			}
		default:
			s.mu.Lock()
			s.rest[i] += line
			s.mu.Unlock()
		}
		if step == 3 && i < len(s.scripts) {
			// The script ran out: keep what the client sends until it closes.
			b, _ := io.ReadAll(r)
			s.mu.Lock()
			s.rest[i] += string(b)
			s.mu.Unlock()
			return
		}
	}
}

func (s *scripted) servePlain(r *bufio.Reader, say func(string), i int) {
	var script []string // the answers still to give from the script
	if i < len(s.scripts) {
		script = s.scripts[i][:]
	}
	answer := func(normal string) string {
		if len(script) == 0 {
			return normal
		}
		a := script[0]
		script = script[1:]
		return a
	}
	var from, to string // the open transaction
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		switch verb = strings.ToUpper(strings.Fields(verb + " x")[0]); verb {
		case "EHLO":
			say("250-scripted\r\n250 8BITMIME")
		case "QUIT":
			say("221 bye")
			return
		case "RSET":
			from, to = "", ""
			say("250 2.0.0 ok")
		case "NOOP":
			say("250 2.0.0 ok")
		case "MAIL":
			if from != "" {
				say("503 5.5.1 Error: nested MAIL command")
				continue
			}
			a := answer("250 2.1.0 ok")
			if strings.HasPrefix(a, "250") {
				from = arg
			}
			say(a)
		case "RCPT":
			if from == "" {
				say("503 5.5.1 Error: need MAIL command")
				continue
			}
			a := answer("250 2.1.5 ok")
			if strings.HasPrefix(a, "250") {
				to = strings.Trim(arg, "<>")
			}
			say(a)
		case "DATA":
			if to == "" {
				say("503 5.5.1 Error: need RCPT command")
				continue
			}
			a := answer("354 go ahead")
			say(a)
			if !strings.HasPrefix(a, "354") {
				continue // the sender and recipient stay set
			}
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			s.mu.Lock()
			s.got = append(s.got, to)
			s.mu.Unlock()
			from, to = "", ""
			say("250 2.0.0 queued")
		default:
			say("502 5.5.2 Error: command not recognized")
		}
	}
}

func scriptedConn(t *testing.T, s *scripted) mailer.Conn {
	t.Helper()
	cfg, err := mailer.ParseURL("smtp://" + s.addr + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 5 * time.Second
	tr, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return open(t, tr)
}

// A server that answers the pipelined DATA with 354 although it refused
// the recipient waits for a body: the connection is dropped without one
// (an RSET would be taken as message text), the error is the refusal, and
// the next message goes out on a new connection.
func TestSend_Pipelined354AfterRefusal(t *testing.T) {
	s := startScripted(t, [3]string{"250 2.1.0 ok", "550 5.1.1 no such user", "354 go ahead"})
	c := scriptedConn(t, s)
	err := c.Send(context.Background(), sample("x1@x.example", "gone@example.org"))
	if r := mailer.Classify(err); r.Kind != mailer.Failed || !r.Bounce || r.Code != 550 || !strings.Contains(err.Error(), "RCPT TO") {
		t.Fatalf("Send = %v → %+v, want the RCPT refusal, a bounce", err, r)
	}
	if err := c.Send(context.Background(), sample("x2@x.example", "a@example.org")); err != nil {
		t.Fatalf("next Send: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns != 2 || s.rest[0] != "" {
		t.Errorf("%d connections, the first one got %q after the 354; want 2 and nothing", s.conns, s.rest[0])
	}
}

// A 421 to MAIL closes the connection before the other replies: the error
// is the 421 at MAIL FROM (retry), and the next message dials again.
func TestSend_Pipelined421AtMail(t *testing.T) {
	s := startScripted(t, [3]string{"421 4.3.2 shutting down", "close", "close"})
	c := scriptedConn(t, s)
	err := c.Send(context.Background(), sample("y1@x.example", "a@example.org"))
	if r := mailer.Classify(err); r.Kind != mailer.Retry || r.Code != 421 || r.Connection || !strings.Contains(err.Error(), "MAIL FROM") {
		t.Fatalf("Send = %v → %+v, want the 421 at MAIL FROM", err, r)
	}
	if err := c.Send(context.Background(), sample("y2@x.example", "a@example.org")); err != nil {
		t.Fatalf("next Send: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns != 2 {
		t.Errorf("%d connections, want 2", s.conns)
	}
}

// A server without PIPELINING that refuses DATA after accepting sender and
// recipient keeps them set: the client resets the transaction, so the
// refusal is reported at DATA and classified by its code, and the next
// message goes out on the same connection (without the reset the server
// would refuse its MAIL FROM as a nested MAIL command).
func TestSend_WithoutPipeliningRefusedData(t *testing.T) {
	for _, tc := range []struct {
		answer, err string
		want        mailer.Result
	}{
		{"554 5.7.1 message refused", `SMTP DATA: 554 "5.7.1 message refused"`,
			mailer.Result{Kind: mailer.Failed, Code: 554, Enhanced: "5.7.1", Reason: "554 5.7.1 message refused"}},
		{"451 4.3.0 try again later", `SMTP DATA: 451 "4.3.0 try again later"`,
			mailer.Result{Kind: mailer.Retry, Code: 451, Enhanced: "4.3.0", Reason: "451 4.3.0 try again later"}},
	} {
		t.Run(tc.answer[:3], func(t *testing.T) {
			s := startScriptedPlain(t, [3]string{"250 2.1.0 ok", "250 2.1.5 ok", tc.answer})
			c := scriptedConn(t, s)
			err := c.Send(context.Background(), sample("d1@x.example", "refused@example.org"))
			if err == nil || err.Error() != tc.err {
				t.Errorf("Send = %v, want %s", err, tc.err)
			}
			if r := mailer.Classify(err); r != tc.want {
				t.Errorf("Classify = %+v, want %+v", r, tc.want)
			}
			for _, to := range []string{"next@example.org", "third@example.org"} {
				if err := c.Send(context.Background(), sample("d."+to, to)); err != nil {
					t.Errorf("Send to %s after the refused DATA: %v", to, err)
				}
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if strings.Join(s.got, " ") != "next@example.org third@example.org" || s.conns != 1 {
				t.Errorf("server accepted messages to %q on %d connections, want next@ and third@ on 1", s.got, s.conns)
			}
		})
	}
}
