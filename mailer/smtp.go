package mailer

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"strings"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

type smtpTransport struct {
	cfg  Config
	dkim dkimSetup
}

func (t *smtpTransport) String() string { return t.cfg.String() }

// Open dials once, so a wrong host, TLS setup or password shows at once.
func (t *smtpTransport) Open(ctx context.Context) (Conn, error) {
	client, err := t.newClient()
	if err != nil {
		return nil, err
	}
	c := &smtpConn{t: t, client: client, signer: t.dkim.signer()}
	if err := c.dial(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (t *smtpTransport) newClient() (*gomail.Client, error) {
	c := t.cfg
	opts := []gomail.Option{
		gomail.WithPort(c.Port),
		gomail.WithTimeout(c.Timeout),
		// One message per Send: the transaction is over after DATA, so the
		// NOOP + RSET go-mail adds after each message are two wasted round
		// trips. Without the NOOP before each message a connection the
		// server closed shows up as a network error at MAIL FROM, which
		// Send answers by redialing once (nothing was transmitted yet).
		gomail.WithoutRset(),
		gomail.WithoutNoop(),
	}
	switch c.TLS {
	case STARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if c.TLSConfig != nil {
		tc := c.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = c.Host
		}
		opts = append(opts, gomail.WithTLSConfig(tc))
	}
	if c.HELO != "" {
		opts = append(opts, gomail.WithHELO(c.HELO))
	}
	if c.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if c.TLS == NoTLS {
			// Discovery never picks PLAIN without TLS; go-mail allows it
			// to a loopback host, the only place tls=none is accepted.
			auth = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	client, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail transport %s: %w", t, err)
	}
	return client, nil
}

// DialError is a failure to connect, start TLS or log in. It concerns the
// connection, not a message.
type DialError struct {
	Transport string // redacted description
	Err       error
}

func (e *DialError) Error() string { return "connect to " + e.Transport + ": " + e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// smtpConn is one SMTP connection (one go-mail Client) that sends one message
// per Send and redials lazily after a network error.
type smtpConn struct {
	t      *smtpTransport
	client *gomail.Client
	sc     *smtp.Client // nil: not connected
	signer *gomail.DKIMSigner
	used   bool   // sc has carried a transaction, so it may have gone stale
	wire   []byte // reused buffer of the 8bit wire format

	pipelining bool   // the server announced PIPELINING (RFC 2920)
	mailParams string // what go-mail's Mail adds after MAIL FROM:<addr>
}

func (c *smtpConn) dial(ctx context.Context) error {
	sc, err := c.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return &DialError{Transport: c.t.String(), Err: err}
	}
	c.sc, c.used = sc, false
	c.pipelining, _ = sc.Extension("PIPELINING")
	c.mailParams = ""
	if ok, _ := sc.Extension("8BITMIME"); ok {
		c.mailParams += " BODY=8BITMIME"
	}
	if ok, _ := sc.Extension("SMTPUTF8"); ok {
		c.mailParams += " SMTPUTF8"
	}
	return nil
}

// Send delivers m. A network error closes the connection; the next Send
// dials again. When the failure happened before any of the message was
// transmitted on a connection that had been idle in the pool (the server
// may have closed it), Send redials and tries once more at once.
func (c *smtpConn) Send(ctx context.Context, m *Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.signer == nil {
		cm, err := check(m)
		if err != nil {
			return err
		}
		return c.sendWire(ctx, m, &cm)
	}
	held := false
	for attempt := 0; ; attempt++ {
		// A fresh Msg per attempt: HasSendError sticks to a sent Msg and
		// Msg.Reset keeps the previous recipient's preformatted headers.
		msg, err := build(m, c.signer)
		if err != nil {
			return err
		}
		if !held {
			// go-mail writes a signed message in one go: hold before it
			// starts (no overlap, but the order holds).
			held = true
			if err := m.hold(); err != nil {
				return err
			}
		}
		if c.sc == nil {
			if err := c.dial(ctx); err != nil {
				return err
			}
		}
		wasUsed := c.used
		c.used = true
		err = c.client.SendWithSMTPClient(c.sc, msg)
		if err == nil {
			return nil
		}
		if !isConnectionLost(err) {
			return fmt.Errorf("send %s: %w", m.MessageID, err)
		}
		c.drop()
		if attempt == 0 && wasUsed && beforeContent(err) && ctx.Err() == nil {
			continue
		}
		return fmt.Errorf("send %s: %w", m.MessageID, err)
	}
}

// drop closes a broken connection without the QUIT round trip.
func (c *smtpConn) drop() {
	if c.sc != nil {
		_ = c.sc.Close()
		c.sc = nil
	}
}

// Close says QUIT and closes the connection.
func (c *smtpConn) Close() error {
	if c.sc == nil {
		return nil
	}
	err := c.client.CloseWithSMTPClient(c.sc)
	_ = c.sc.Close() // QUIT closes on success; this covers a failed QUIT
	c.sc = nil
	return err
}

// isConnectionLost reports a go-mail send error without an SMTP reply code:
// the connection broke (EOF, reset, timeout) and cannot be reused.
func isConnectionLost(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return true
	}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		return false
	}
	return se.ErrorCode() == 0
}

// beforeContent reports a failure before the message body went out, so the
// server cannot have accepted the message.
func beforeContent(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Reason {
	case gomail.ErrConnCheck, gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData:
		return true
	}
	return false
}

// wireError is a failure of the 8bit path at one SMTP stage.
type wireError struct {
	Stage string // "MAIL FROM", "RCPT TO", "DATA", "message"
	Err   error
}

func (e *wireError) Error() string { return "SMTP " + e.Stage + ": " + e.Err.Error() }
func (e *wireError) Unwrap() error { return e.Err }

// sendWire sends m in the wire format (see wire.go) through go-mail's smtp
// client: 8bit when the server announces 8BITMIME and the bodies allow it,
// quoted-printable otherwise. The transaction is MAIL, RCPT, DATA as
// go-mail's; the body is written into the connection's buffered writer as
// one piece instead of through textproto's byte-at-a-time dot writer.
func (c *smtpConn) sendWire(ctx context.Context, m *Message, cm *checked) error {
	for attempt := 0; ; attempt++ {
		if c.sc == nil {
			if err := c.dial(ctx); err != nil {
				return err
			}
		}
		eightBit, _ := c.sc.Extension("8BITMIME")
		var ok bool
		if c.wire, ok = appendWire(c.wire[:0], m, cm, m.Bulk, eightBit); !ok {
			c.wire, _ = appendWire(c.wire[:0], m, cm, m.Bulk, false)
		}
		if m.Hold == nil {
			c.wire = append(c.wire, ".\r\n"...) // the end of DATA, in the same write
		}
		if cap(c.wire) > 1<<20 {
			defer func() { c.wire = nil }() // do not keep an unusually large buffer
		}
		wasUsed := c.used
		c.used = true
		stage, err := c.transact(envelope(cm.envFrom), envelope(cm.to.Address), c.wire, m)
		if err == nil {
			return nil
		}
		var he *HoldError
		if errors.As(err, &he) {
			// Without the final dot the server discards the message.
			c.drop()
			return err
		}
		var tpe *textproto.Error
		if errors.As(err, &tpe) {
			// The server answered; transact has reset the transaction
			// (or dropped a connection it could not reset).
			return &wireError{Stage: stage, Err: err}
		}
		c.drop()
		if attempt == 0 && wasUsed && stage != "message" && ctx.Err() == nil {
			continue // nothing of the message went out on a connection that was idle
		}
		return fmt.Errorf("send %s: %w", m.MessageID, &wireError{Stage: stage, Err: err})
	}
}

// transact runs one SMTP transaction and names the stage that failed. wire
// ends with the final ".\r\n", unless m has a Hold: then the body is
// flushed, Hold runs, and only then the final dot goes out. A refused MAIL
// or RCPT leaves a transaction open at the server: transact resets it, so a
// returned *textproto.Error means the connection is ready for the next
// message (or, when it could not be reset, dropped).
func (c *smtpConn) transact(from, to string, wire []byte, m *Message) (string, error) {
	sc := c.sc
	if err := sc.UpdateDeadline(c.t.cfg.Timeout); err != nil {
		return "MAIL FROM", err
	}
	if c.pipelining {
		if stage, err := c.pipelineEnvelope(from, to); err != nil {
			return stage, err
		}
	} else if stage, err := c.stepEnvelope(from, to); err != nil {
		return stage, err
	}
	// The buffer is empty after the DATA command, so a large write goes
	// straight to the connection in one system call.
	w := sc.Text.W
	w.Write(wire)
	if err := w.Flush(); err != nil {
		return "message", err
	}
	if m.Hold != nil {
		if err := m.hold(); err != nil {
			return "message", err
		}
		w.WriteString(".\r\n")
		if err := w.Flush(); err != nil {
			return "message", err
		}
	}
	if _, _, err := sc.Text.ReadResponse(250); err != nil {
		return "message", err
	}
	return "", nil
}

// stepEnvelope sends MAIL FROM, RCPT TO and DATA one after the other, each
// waiting for its reply: for a server without PIPELINING.
func (c *smtpConn) stepEnvelope(from, to string) (string, error) {
	sc := c.sc
	if err := sc.Mail(from); err != nil {
		c.resetAfter(err)
		return "MAIL FROM", err
	}
	if err := sc.Rcpt(to); err != nil {
		c.resetAfter(err)
		return "RCPT TO", err
	}
	id, err := sc.Text.Cmd("DATA")
	if err != nil {
		return "DATA", err
	}
	sc.Text.StartResponse(id)
	_, _, err = sc.Text.ReadResponse(354)
	sc.Text.EndResponse(id)
	if err != nil {
		c.resetAfter(err) // sender and recipient are still set at the server
		return "DATA", err
	}
	return "", nil
}

// pipelineEnvelope sends MAIL FROM, RCPT TO and DATA in one write (RFC 2920
// PIPELINING) and reads the three replies in order. The first refusal names
// the stage, as without pipelining; the replies after it are read too (a
// server answers DATA after a refused RCPT with 503 or 554), then the
// transaction is reset. A server that answers DATA with 354 although it
// refused MAIL or RCPT waits for a body: the connection is dropped instead.
// A reply missing after a refusal (a 421 closes the connection) drops the
// connection and still reports the refusal.
func (c *smtpConn) pipelineEnvelope(from, to string) (string, error) {
	if strings.ContainsAny(from, "\r\n") || strings.ContainsAny(to, "\r\n") {
		// check refuses such addresses first; go-mail's Mail and Rcpt do the same.
		return "MAIL FROM", errors.New("smtp: A line must not contain CR or LF")
	}
	text := c.sc.Text
	w := text.W
	w.WriteString("MAIL FROM:")
	w.WriteString(from)
	w.WriteString(c.mailParams)
	w.WriteString("\r\nRCPT TO:")
	w.WriteString(to)
	w.WriteString("\r\nDATA\r\n")
	if err := w.Flush(); err != nil {
		return "MAIL FROM", err
	}
	var (
		stage   string
		refused error
		code    int
	)
	for _, r := range [...]struct {
		stage  string
		expect int
	}{{"MAIL FROM", 250}, {"RCPT TO", 25}, {"DATA", 354}} {
		var err error
		code, _, err = text.ReadResponse(r.expect)
		if err == nil {
			continue
		}
		var tpe *textproto.Error
		if !errors.As(err, &tpe) { // no reply: the connection is broken
			if refused == nil {
				return r.stage, err
			}
			c.drop()
			return stage, refused
		}
		if refused == nil {
			stage, refused = r.stage, err
		}
	}
	switch {
	case refused == nil:
		return "", nil
	case code == 354:
		c.drop()
	default:
		c.resetAfter(refused)
	}
	return stage, refused
}

// resetAfter ends the transaction the server left open after it refused a
// command (err is its *textproto.Error); a connection that cannot be reset
// is dropped. A network error needs no reset: the caller drops the
// connection.
func (c *smtpConn) resetAfter(err error) {
	var tpe *textproto.Error
	if !errors.As(err, &tpe) {
		return
	}
	if c.sc.Reset() != nil {
		c.drop()
	}
}

// envelope is an address as go-mail puts it in MAIL FROM and RCPT TO.
func envelope(addr string) string { return (&mail.Address{Address: addr}).String() }
