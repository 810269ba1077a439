package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	secrets "github.com/kommune21/digest/internal/redact"
)

// Config is an IMAP mailbox: imaps://USER:PASS@HOST[:993]/MAILBOX, or
// imap://USER:PASS@127.0.0.1:PORT/MAILBOX?tls=none to a loopback server.
type Config struct {
	Host      string
	Port      int
	TLS       bool // implicit TLS (imaps)
	Username  string
	Password  string // secret
	Mailbox   string // default INBOX
	TLSConfig *tls.Config
	Timeout   time.Duration // per command, default 1 minute
}

// ParseURL reads a mailbox URL. Its errors never contain the password.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.New("not a URL: use imaps://USER:PASS@HOST/INBOX")
	}
	c := Config{Host: u.Hostname(), Mailbox: strings.TrimPrefix(u.Path, "/")}
	if c.Mailbox == "" {
		c.Mailbox = "INBOX"
	}
	switch u.Scheme {
	case "imaps":
		c.TLS, c.Port = true, 993
		if len(u.Query()) > 0 {
			return Config{}, fmt.Errorf("%s: imaps:// takes no options", redact(u))
		}
	case "imap":
		if u.Query().Get("tls") != "none" || len(u.Query()) != 1 {
			return Config{}, fmt.Errorf("%s: imap:// is plaintext; use imaps://HOST/INBOX, or imap://…?tls=none for a server on this machine", redact(u))
		}
		c.Port = 143
		if !isLoopback(c.Host) {
			return Config{}, fmt.Errorf("%s: tls=none is only allowed to a loopback address (127.0.0.1, ::1, localhost); use imaps://", redact(u))
		}
	default:
		return Config{}, fmt.Errorf("%s: use imaps://USER:PASS@HOST/INBOX", redact(u))
	}
	if c.Host == "" {
		return Config{}, fmt.Errorf("%s: no host", redact(u))
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("%s: bad port %q", redact(u), p)
		}
		c.Port = n
	}
	if u.User == nil || u.User.Username() == "" {
		return Config{}, fmt.Errorf("%s: no user: use imaps://USER:PASS@HOST/INBOX (percent-encode @ and : in them)", redact(u))
	}
	c.Username = u.User.Username()
	c.Password, _ = u.User.Password()
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redact shows u with every password masked: the user info's and any in
// the query (?password=…), which the error of a URL with options repeats.
func redact(u *url.URL) string { return secrets.URL(u.String()) }

// String is the URL with the password hidden.
func (c Config) String() string {
	scheme, q := "imaps", ""
	if !c.TLS {
		scheme, q = "imap", "?tls=none"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), Path: "/" + c.Mailbox, User: url.UserPassword(c.Username, "xxxxx")}
	return u.String() + q
}

// LogValue keeps the password out of slog output.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Folders where handled mails go, below Parent.
const (
	Parent    = "digest"
	Handled   = "handled"
	Unmatched = "unmatched"
)

// HandleFunc handles one mail and says which folder it goes to (Handled or
// Unmatched). An error leaves the mail where it is and stops the poll.
type HandleFunc func(ctx context.Context, raw []byte, source string) (folder string, err error)

// Poller reads an IMAP mailbox.
type Poller struct {
	Config Config
	Handle HandleFunc
	Batch  int // mails fetched at once, default 20
	Max    int // mails handled per Poll, default 1000
}

// PollStats counts one Poll.
type PollStats struct {
	Seen  int            // mails in the mailbox
	Moved map[string]int // by folder
}

// Poll handles the mails in the mailbox and moves each to its folder.
func (p *Poller) Poll(ctx context.Context) (PollStats, error) {
	st := PollStats{Moved: map[string]int{}}
	c, err := p.dial(ctx)
	if err != nil {
		return st, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	wrap := func(what string, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("mailbox %s: %s: %w", p.Config, what, err)
	}

	folders, err := p.folders(c)
	if err != nil {
		return st, wrap("set up folders", err)
	}
	if _, err := c.Select(p.Config.Mailbox, nil).Wait(); err != nil {
		return st, wrap("select "+p.Config.Mailbox, err)
	}
	sr, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		return st, wrap("search", err)
	}
	uids := sr.AllUIDs()
	st.Seen = len(uids)
	maxN, batch := p.Max, p.Batch
	if maxN <= 0 {
		maxN = 1000
	}
	if batch <= 0 {
		batch = 20
	}
	if len(uids) > maxN {
		uids = uids[:maxN]
	}
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: MaxMail}}
	for len(uids) > 0 {
		n := min(batch, len(uids))
		part := uids[:n]
		uids = uids[n:]
		msgs, err := c.Fetch(imap.UIDSetNum(part...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return st, wrap("fetch", err)
		}
		move := map[string][]imap.UID{}
		var handleErr error
		for _, m := range msgs {
			raw := m.FindBodySection(section)
			if raw == nil {
				for _, s := range m.BodySection {
					raw = s.Bytes
				}
			}
			folder, err := p.Handle(ctx, raw, fmt.Sprintf("imap %s uid %d", p.Config.Mailbox, m.UID))
			if err != nil {
				handleErr = err
				break
			}
			if name, ok := folders[folder]; ok {
				move[name] = append(move[name], m.UID)
			}
		}
		for name, set := range move {
			if _, err := c.Move(imap.UIDSetNum(set...), name).Wait(); err != nil {
				return st, wrap("move to "+name, err)
			}
			st.Moved[name] += len(set)
		}
		if handleErr != nil {
			return st, handleErr
		}
	}
	if err := c.Logout().Wait(); err != nil && ctx.Err() == nil {
		return st, nil // the work is done; a failed LOGOUT changes nothing
	}
	return st, nil
}

func (p *Poller) dial(ctx context.Context) (*imapclient.Client, error) {
	cfg := p.Config
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	opts := &imapclient.Options{Dialer: &net.Dialer{Timeout: timeout}, TLSConfig: cfg.TLSConfig}
	if opts.TLSConfig == nil {
		opts.TLSConfig = &tls.Config{ServerName: cfg.Host}
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	var c *imapclient.Client
	var err error
	if cfg.TLS {
		c, err = imapclient.DialTLS(addr, opts)
	} else {
		c, err = imapclient.DialInsecure(addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("mailbox %s: connect: %w", cfg, err)
	}
	if err := ctx.Err(); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("mailbox %s: log in as %q: %s", cfg, cfg.Username, strings.ReplaceAll(err.Error(), cfg.Password, "xxxxx"))
	}
	return c, nil
}

// folders makes sure digest<delim>handled and digest<delim>unmatched exist,
// with the delimiter the server reports in LIST, and returns their names.
func (p *Poller) folders(c *imapclient.Client) (map[string]string, error) {
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		return nil, err
	}
	var delim rune
	exists := map[string]bool{}
	for _, l := range list {
		exists[l.Mailbox] = true
		if delim == 0 || strings.EqualFold(l.Mailbox, p.Config.Mailbox) {
			if l.Delim != 0 {
				delim = l.Delim
			}
		}
	}
	sep := string(delim)
	if delim == 0 {
		sep = "-" // a flat server: digest-handled
	}
	out := map[string]string{}
	if delim != 0 && !exists[Parent] {
		if err := c.Create(Parent, nil).Wait(); err != nil && !alreadyExists(err) {
			return nil, fmt.Errorf("create %s: %w", Parent, err)
		}
	}
	for _, f := range []string{Handled, Unmatched} {
		name := Parent + sep + f
		if !exists[name] {
			if err := c.Create(name, nil).Wait(); err != nil && !alreadyExists(err) {
				return nil, fmt.Errorf("create %s: %w", name, err)
			}
		}
		out[f] = name
	}
	return out, nil
}

func alreadyExists(err error) bool {
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
		return true
	}
	return strings.Contains(strings.ToLower(err.Error()), "exist")
}
