package smtptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From   string   // envelope sender (MAIL FROM)
	To     []string // envelope recipients (RCPT TO), in order
	Data   []byte   // the message exactly as received, CRLF line ends
	Header mail.Header
}

// Server is a running SMTP server on a loopback address.
type Server struct {
	Addr string // "127.0.0.1:port"

	srv       *smtp.Server
	ln        net.Listener
	discard   bool
	clientTLS *tls.Config
	rules     rules

	hidePipelining bool
	logReads       bool

	mu        sync.Mutex
	msgs      []Received
	count     int
	conns     int
	reads     []string // WithReadLog
	readBytes int
	changed   chan struct{} // closed and replaced whenever count grows

	closeOnce sync.Once
	closeErr  error
	served    chan struct{}
	closing   chan struct{} // closed by Close: releases Block faults
}

// Option configures a Server.
type Option func(*options)

type options struct {
	discard      bool
	startTLS     bool
	implicitTLS  bool
	readTimeout  time.Duration
	noPipelining bool
	readLog      bool
}

// Discard keeps only the count of accepted messages, not their bytes: for
// benchmarks at thousands of messages per second.
func Discard() Option { return func(o *options) { o.discard = true } }

// WithStartTLS offers STARTTLS with a fresh self-signed certificate for
// 127.0.0.1, ::1 and localhost; ClientTLSConfig trusts it.
func WithStartTLS() Option { return func(o *options) { o.startTLS = true } }

// WithImplicitTLS speaks TLS from the first byte (like port 465) with a fresh
// self-signed certificate; ClientTLSConfig trusts it.
func WithImplicitTLS() Option { return func(o *options) { o.implicitTLS = true } }

// WithReadTimeout closes connections idle for longer than d (default: never),
// like a production relay does.
func WithReadTimeout(d time.Duration) Option { return func(o *options) { o.readTimeout = d } }

// WithoutPipelining leaves PIPELINING (RFC 2920) out of the EHLO reply, like
// a relay that does not offer it; go-smtp announces it otherwise. Not with
// TLS.
func WithoutPipelining() Option { return func(o *options) { o.noPipelining = true } }

// WithReadLog keeps what the server reads from its clients, read by read
// (Server.Reads): a test can see which commands arrived together. Not with
// TLS.
func WithReadLog() Option { return func(o *options) { o.readLog = true } }

// Start runs a server on 127.0.0.1 with a free port and stops it when the
// test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Listen("127.0.0.1:0", opts...)
	if err != nil {
		tb.Fatalf("smtptest: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Listen runs a server on addr, which must be a loopback address such as
// "127.0.0.1:0" (port 0 picks a free port; Server.Addr tells which).
func Listen(addr string, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	if (o.noPipelining || o.readLog) && (o.startTLS || o.implicitTLS) {
		return nil, fmt.Errorf("smtptest: WithoutPipelining and WithReadLog work on plaintext connections only, not with TLS")
	}
	s := &Server{discard: o.discard, hidePipelining: o.noPipelining, logReads: o.readLog, changed: make(chan struct{}), served: make(chan struct{}), closing: make(chan struct{})}

	srv := smtp.NewServer(&backend{s: s})
	srv.Domain = "smtptest.localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.MaxMessageBytes = 32 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = o.readTimeout

	var serverTLS *tls.Config
	if o.startTLS || o.implicitTLS {
		var err error
		serverTLS, s.clientTLS, err = selfSigned()
		if err != nil {
			return nil, fmt.Errorf("smtptest: certificate: %w", err)
		}
	}
	if o.startTLS {
		srv.TLSConfig = serverTLS
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("smtptest: listen on %s: %w", addr, err)
	}
	ln = tapListener{Listener: ln, s: s}
	if o.implicitTLS {
		ln = tls.NewListener(ln, serverTLS)
	}
	s.srv, s.ln, s.Addr = srv, ln, ln.Addr().String()
	go func() {
		defer close(s.served)
		_ = srv.Serve(ln)
	}()
	return s, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("smtptest: address %q: %w (want e.g. 127.0.0.1:0)", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("smtptest: address %q is not loopback: this server accepts mail from anyone, listen on 127.0.0.1 or [::1]", addr)
}

// ClientTLSConfig returns a TLS client configuration that trusts the server's
// self-signed certificate, or nil when the server runs without TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Host returns the IP address part of Addr.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server and drops all open connections. It is safe to call
// more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.closeErr = s.srv.Close()
		if errors.Is(s.closeErr, smtp.ErrServerClosed) || errors.Is(s.closeErr, net.ErrClosed) {
			s.closeErr = nil
		}
		// go-smtp only knows the listener once Serve has run; close it
		// ourselves so a Close right after Listen cannot hang.
		_ = s.ln.Close()
		<-s.served
	})
	return s.closeErr
}

// FailRcpt makes RCPT TO:<addr> answer with f. addr "*" matches every
// recipient without a rule of its own. A later call for the same address
// replaces the rule and its attempt count.
func (s *Server) FailRcpt(addr string, f Fault) { s.rules.set(atRcpt, addr, f) }

// FailData applies f at the end of DATA for messages with addr among their
// recipients (the body has been read, the final answer is replaced). A Drop
// here is the "accepted or not?" case: the client never learns the outcome.
func (s *Server) FailData(addr string, f Fault) { s.rules.set(atData, addr, f) }

// FailMail makes MAIL FROM:<addr> answer with f (a refused sender). addr
// "*" matches every sender without a rule of its own.
func (s *Server) FailMail(addr string, f Fault) { s.rules.set(atMail, addr, f) }

// Count returns how many messages were accepted so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Messages returns a copy of the accepted messages in arrival order (empty
// with Discard).
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.msgs))
	copy(out, s.msgs)
	return out
}

// WaitFor waits until at least n messages were accepted and returns them; it
// fails the test when that takes longer than timeout.
func (s *Server) WaitFor(tb testing.TB, n int, timeout time.Duration) []Received {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		count, changed := s.count, s.changed
		s.mu.Unlock()
		if count >= n {
			return s.Messages()
		}
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("smtptest: waited %v for %d messages, got %d", timeout, n, count)
			return nil
		}
	}
}

func (s *Server) accept(from string, to []string, data []byte) error {
	var rec Received
	if !s.discard {
		msg, err := mail.ReadMessage(bytes.NewReader(data))
		if err != nil {
			// A real relay would reject this too; the client sees why.
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparseable message: " + err.Error()}
		}
		rec = Received{From: from, To: to, Data: data, Header: msg.Header}
	}
	s.mu.Lock()
	if !s.discard {
		s.msgs = append(s.msgs, rec)
	}
	s.count++
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return nil
}
