package mailer

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kommune21/digest/internal/redact"
)

// TLSMode says how an SMTP connection is protected.
type TLSMode int

const (
	// STARTTLS upgrades a plaintext connection and refuses servers that do
	// not offer it (smtp://, the default).
	STARTTLS TLSMode = iota
	// ImplicitTLS speaks TLS from the first byte (smtps://, port 465).
	ImplicitTLS
	// NoTLS sends in plaintext; only allowed to a loopback host (smtp://…?tls=none).
	NoTLS
)

func (m TLSMode) String() string {
	switch m {
	case STARTTLS:
		return "starttls"
	case ImplicitTLS:
		return "tls"
	case NoTLS:
		return "none"
	}
	return "unknown"
}

// Default ports and timeout.
const (
	DefaultSMTPPort  = 587
	DefaultSMTPSPort = 465
	DefaultTimeout   = 30 * time.Second
)

// Config is a parsed transport URL plus the options a URL cannot carry.
// Print it with String (or log it with slog): both redact the password.
type Config struct {
	Scheme   string // "smtp", "smtps" or "file"
	Host     string // SMTP host name or IP, without brackets
	Port     int
	Username string // empty: no SMTP AUTH
	Password string `json:"-"`
	TLS      TLSMode
	Dir      string // file: the directory .eml files go to

	HELO      string        // EHLO name; empty: go-mail's default (the machine's host name)
	Timeout   time.Duration // per dial and per message; zero: DefaultTimeout
	TLSConfig *tls.Config   // optional: private CAs (tests, internal relays); ServerName is set from Host
	DKIM      DKIMConfig    // zero value: no signing
}

// DKIMConfig enables DKIM signing when Domain is set.
type DKIMConfig struct {
	Domain   string // d= (e.g. "kommune21.de")
	Selector string // s= (e.g. "digest2026")
	KeyFile  string // PEM private key, RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8)
	KeyPEM   []byte `json:"-"` // the key itself, instead of KeyFile
}

// Enabled reports whether messages are to be signed.
func (d DKIMConfig) Enabled() bool {
	return d.Domain != "" || d.Selector != "" || d.KeyFile != "" || len(d.KeyPEM) > 0
}

const validURLs = "valid forms: smtp://USER:PASSWORD@HOST:587 (STARTTLS), smtps://USER:PASSWORD@HOST:465 (implicit TLS), " +
	"smtp://127.0.0.1:1025?tls=none (plaintext, loopback only), file:DIR (write .eml files)"

// ParseURL parses a transport URL:
//
//	smtp://user:pass@host:587        STARTTLS mandatory (port defaults to 587)
//	smtps://user:pass@host:465       implicit TLS (port defaults to 465)
//	smtp://host:1025?tls=none        plaintext, only to 127.0.0.0/8, ::1 or localhost
//	file:DIR                         write each message to DIR/<message-id>.eml
//
// User and password are optional; special characters in them must be
// percent-encoded ("/" as %2F, "@" as %40). Errors name what is wrong and
// never contain the password.
func ParseURL(raw string) (Config, error) {
	shown := redact.URL(raw)
	fail := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("mail transport URL %q: %s; %s", shown, fmt.Sprintf(format, args...), validURLs)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return fail("empty")
	}
	if containsCTL(raw) {
		return fail("contains control characters or line breaks")
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return fail("no scheme")
	}
	switch strings.ToLower(scheme) {
	case "file":
		return parseFile(rest, fail)
	case "smtp", "smtps":
	default:
		return fail("unknown scheme %s", echo(scheme))
	}

	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the input, password included: say what to check instead.
		return fail("not a valid URL (check the port, and percent-encode special characters in user and password)")
	}
	if u.Opaque != "" || u.Host == "" {
		return fail("no host")
	}
	if u.User == nil && strings.Contains(raw, "@") {
		return fail("'@' outside user:password@host (percent-encode special characters in the password, e.g. '/' as %%2F)")
	}
	if u.Path != "" && u.Path != "/" {
		return fail("unexpected path %s", echo(u.Path))
	}
	if u.Fragment != "" {
		return fail("unexpected fragment")
	}
	c := Config{Scheme: strings.ToLower(u.Scheme), Host: u.Hostname()}
	if c.Host == "" {
		return fail("no host")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" {
			return fail("password without user name")
		}
	}
	if c.Scheme == "smtps" {
		c.TLS, c.Port = ImplicitTLS, DefaultSMTPSPort
	} else {
		c.TLS, c.Port = STARTTLS, DefaultSMTPPort
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fail("port %s is not a number from 1 to 65535", echo(p))
		}
		c.Port = n
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("malformed query")
	}
	for key, vals := range q {
		if key != "tls" {
			return fail("unknown parameter %s (only tls=none is understood)", echo(key))
		}
		if len(vals) != 1 {
			return fail("tls given more than once")
		}
		switch strings.ToLower(vals[0]) {
		case "none":
			if c.Scheme == "smtps" {
				return fail("smtps:// always uses TLS; use smtp://HOST:PORT?tls=none for a plaintext test server")
			}
			c.TLS = NoTLS
		case "starttls":
			if c.Scheme == "smtps" {
				return fail("smtps:// uses implicit TLS, not STARTTLS; use smtp://HOST:587")
			}
		default:
			return fail("tls=%s is not understood (only tls=none, for a loopback test server)", echo(vals[0]))
		}
	}
	if c.TLS == NoTLS && !isLoopback(c.Host) {
		return fail("tls=none sends passwords and mail in plaintext and is only allowed to a loopback host (127.0.0.1, ::1, localhost), not %s; use smtp:// with STARTTLS or smtps://", echo(c.Host))
	}
	return c, nil
}

func parseFile(rest string, fail func(string, ...any) (Config, error)) (Config, error) {
	dir := rest
	if strings.HasPrefix(rest, "//") {
		// file:///abs/dir or file://localhost/abs/dir
		host, path, _ := strings.Cut(rest[2:], "/")
		if host != "" && host != "localhost" {
			return fail("file URL names host %s; only local directories are supported", echo(host))
		}
		if path == "" {
			return fail("no directory (e.g. file:outbox or file:///var/spool/digest)")
		}
		dir = "/" + path
	}
	if strings.TrimSpace(dir) == "" {
		return fail("no directory (e.g. file:outbox)")
	}
	if strings.ContainsAny(dir, "?#") {
		return fail("directory %s contains '?' or '#'", echo(dir))
	}
	return Config{Scheme: "file", Dir: filepath.Clean(dir)}, nil
}

// echo quotes a piece of the URL for an error message unless it might hold
// (part of) a password, which a URL with several '@' or ':' can smuggle into
// any component.
func echo(s string) string {
	if net.ParseIP(s) != nil {
		return strconv.Quote(s)
	}
	if strings.ContainsAny(s, "@:") || len(s) > 60 {
		return "(not shown: it may contain the password)"
	}
	return strconv.Quote(s)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func containsCTL(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// Redact returns a transport URL fit for logs and errors: the parsed form
// with the password replaced by "xxxxx", or, for a value that does not parse,
// as much as can be shown without the password (often nothing).
func Redact(raw string) string {
	if c, err := ParseURL(raw); err == nil {
		return c.String()
	}
	return redact.URL(raw)
}

// String returns the transport as a URL with the password replaced by
// "xxxxx", fit for logs and error messages.
func (c Config) String() string {
	if c.Scheme == "file" {
		return "file:" + c.Dir
	}
	u := url.URL{Scheme: c.Scheme, Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.Username != "" {
		if c.Password != "" {
			u.User = url.UserPassword(c.Username, "xxxxx")
		} else {
			u.User = url.User(c.Username)
		}
	}
	if c.TLS == NoTLS {
		u.RawQuery = "tls=none"
	}
	return u.String()
}

// GoString keeps %#v from printing the password.
func (c Config) GoString() string { return "mailer.Config(" + strconv.Quote(c.String()) + ")" }

// LogValue keeps slog (text and JSON) from printing the password.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
