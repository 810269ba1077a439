package smtptest

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/emersion/go-smtp"
)

type backend struct{ s *Server }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

// session is one SMTP connection's transaction state.
type session struct {
	s    *Server
	conn *smtp.Conn
	from string
	to   []string
	buf  bytes.Buffer
}

var errDropped = errors.New("smtptest: connection dropped by fault injection")

func (se *session) Reset() { se.from, se.to = "", nil }

func (se *session) Logout() error { return nil }

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	se.from, se.to = "", nil
	if f, ok := se.s.rules.hit(atMail, from); ok {
		if err := se.apply(f, from); err != nil {
			return err
		}
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f, ok := se.s.rules.hit(atRcpt, to); ok {
		if err := se.apply(f, to); err != nil {
			return err
		}
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	var data []byte
	if se.s.discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	} else {
		se.buf.Reset()
		if _, err := se.buf.ReadFrom(r); err != nil {
			return err
		}
		data = bytes.Clone(se.buf.Bytes())
	}
	for _, to := range se.to {
		if f, ok := se.s.rules.hit(atData, to); ok {
			if err := se.apply(f, to); err != nil {
				return err
			}
			break
		}
	}
	return se.s.accept(se.from, append([]string(nil), se.to...), data)
}

// apply carries out a fault for recipient addr; nil means "go on and accept".
func (se *session) apply(f Fault, addr string) error {
	if f.onHit != nil {
		f.onHit(addr)
	}
	switch f.kind {
	case faultReject:
		return &smtp.SMTPError{Code: f.code, EnhancedCode: smtp.EnhancedCode(f.enhanced), Message: f.text}
	case faultDrop:
		_ = se.conn.Conn().Close()
		return errDropped
	case faultDelay:
		time.Sleep(f.delay)
	case faultBlock, faultHold:
		select {
		case <-f.until:
		case <-se.s.closing:
		}
		if f.kind == faultBlock {
			_ = se.conn.Conn().Close()
			return errDropped
		}
	}
	return nil
}
