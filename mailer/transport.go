package mailer

import (
	"context"
	"crypto"
	"fmt"
	"os"

	gomail "github.com/wneessen/go-mail"
)

// Transport opens connections that deliver messages.
type Transport interface {
	// Open returns a new connection; use one per worker.
	Open(ctx context.Context) (Conn, error)
	// String describes the transport without secrets, e.g.
	// "smtp://user:xxxxx@host:587" or "file:outbox".
	String() string
}

// Conn delivers messages one at a time. It is not safe for concurrent use.
type Conn interface {
	// Send delivers one message. Classify tells what an error means. ctx
	// is checked first and bounds a (re)dial; a transfer in progress is
	// bounded by Config.Timeout instead (go-mail's Send takes no context).
	// Send calls m.Hold, when set, before the message can be accepted.
	Send(ctx context.Context, m *Message) error
	Close() error
}

// New returns the transport Config describes. It loads the DKIM key, so a
// bad key file fails here rather than at the first message.
func New(c Config) (Transport, error) {
	var key crypto.Signer
	if c.DKIM.Enabled() {
		var err error
		if key, err = loadDKIMKey(c.DKIM); err != nil {
			return nil, err
		}
	}
	d := dkimSetup{cfg: c.DKIM, key: key}
	switch c.Scheme {
	case "file":
		if c.Dir == "" {
			return nil, fmt.Errorf("mail transport %s: no directory", c)
		}
		return &fileTransport{dir: c.Dir, dkim: d}, nil
	case "smtp", "smtps":
		if c.Host == "" || c.Port == 0 {
			return nil, fmt.Errorf("mail transport %s: host and port are required; %s", c, validURLs)
		}
		if c.TLS == NoTLS && !isLoopback(c.Host) {
			return nil, fmt.Errorf("mail transport %s: plaintext is only allowed to a loopback host", c)
		}
		if c.Timeout <= 0 {
			c.Timeout = DefaultTimeout
		}
		return &smtpTransport{cfg: c, dkim: d}, nil
	}
	return nil, fmt.Errorf("mail transport scheme %q unknown; %s", c.Scheme, validURLs)
}

// dkimSetup makes one signer per connection: go-mail's signer caches its
// algorithm on first use and is not safe to share between goroutines.
type dkimSetup struct {
	cfg DKIMConfig
	key crypto.Signer
}

func (d dkimSetup) signer() *gomail.DKIMSigner {
	if d.key == nil {
		return nil
	}
	s := gomail.NewDKIMSigner(d.cfg.Domain, d.cfg.Selector, d.key)
	s.SignHeaders(dkimHeaders...)
	return s
}

func loadDKIMKey(d DKIMConfig) (crypto.Signer, error) {
	if d.Domain == "" || d.Selector == "" {
		return nil, fmt.Errorf("DKIM: domain and selector are both required (got domain %q, selector %q)", d.Domain, d.Selector)
	}
	pemBytes, src := d.KeyPEM, "DKIM key"
	if len(pemBytes) == 0 {
		if d.KeyFile == "" {
			return nil, fmt.Errorf("DKIM: no key file given for domain %s", d.Domain)
		}
		var err error
		if pemBytes, err = os.ReadFile(d.KeyFile); err != nil {
			return nil, fmt.Errorf("DKIM: read key: %w", err)
		}
		src = "DKIM key file " + d.KeyFile
	}
	key, err := gomail.PrivKeyFromPEM(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (want a PEM \"RSA PRIVATE KEY\" or \"PRIVATE KEY\" with RSA or Ed25519)", src, err)
	}
	// Validate once now instead of failing every message.
	if err := (gomail.NewDKIMSigner(d.Domain, d.Selector, key)).ValidateConfig(); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return key, nil
}
