package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kommune21/digest/internal/redact"
	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/subscribers"
)

// Config is the whole configuration, read once from DIGEST_* variables and then
// overridden by flags. Fields marked secret never appear in logs, errors or --help.
type Config struct {
	DB            string        // DIGEST_DB
	SMTP          string        // DIGEST_SMTP (secret: may hold a password)
	From          string        // DIGEST_FROM
	ReplyTo       string        // DIGEST_REPLY_TO
	BaseURL       string        // DIGEST_BASE_URL
	Secret        string        // DIGEST_SECRET (secret)
	Schedule      string        // DIGEST_SCHEDULE
	ScheduleDaily string        // DIGEST_SCHEDULE_DAILY
	SendRate      float64       // DIGEST_SEND_RATE, messages per second, 0 = unlimited
	SendWorkers   int           // DIGEST_SEND_WORKERS
	SendBatch     int           // DIGEST_SEND_BATCH
	Imprint       string        // DIGEST_IMPRINT
	ListID        string        // DIGEST_LIST_ID
	PortalURL     string        // DIGEST_PORTAL_URL
	Feeds         []string      // DIGEST_FEEDS, comma-separated URLs
	FeedInterval  time.Duration // DIGEST_FEED_INTERVAL
	DKIMDomain    string        // DIGEST_DKIM_DOMAIN
	DKIMSelector  string        // DIGEST_DKIM_SELECTOR
	DKIMKeyFile   string        // DIGEST_DKIM_KEY_FILE
	LogLevel      slog.Level    // DIGEST_LOG_LEVEL

	TrustedProxies []netip.Prefix // DIGEST_TRUSTED_PROXIES, CIDR list; empty = X-Forwarded-For ignored
	PrivacyURL     string         // DIGEST_PRIVACY_URL, privacy notice linked from the signup form
	// Returned mail (bounces, complaints, unsubscribe mails).
	ReturnPath      string        // DIGEST_RETURN_PATH, base address of the VERP envelope sender; empty = off
	Mailbox         string        // DIGEST_MAILBOX (secret: holds a password), IMAP mailbox `digest serve` polls
	MailboxInterval time.Duration // DIGEST_MAILBOX_INTERVAL
	MetricsAddr     string        // DIGEST_METRICS_ADDR, listen address of GET /metrics; empty = off

	// set records which values came from flags (for `digest config`).
	set map[string]bool
}

// Defaults for an unset variable.
const (
	DefaultSMTP          = "file:outbox"
	DefaultFrom          = "Digest <digest@localhost>"
	DefaultBaseURL       = "http://localhost:8080"
	DefaultSchedule      = "CRON_TZ=Europe/Berlin 0 7 * * MON"
	DefaultScheduleDaily = "CRON_TZ=Europe/Berlin 0 7 * * *"
	DefaultPortalURL     = "https://www.kommune21.de"
)

// setting describes one configuration value: its variable, flag, group and field.
type setting struct {
	env, flag, help string
	group           flagGroup
	secret          bool
	// show returns the value as `digest config` prints it; nil: as it is
	// (or "(set, hidden)" for a secret). Values that may hold a password
	// (URLs) are shown parsed and redacted, never as given.
	show func(v string) string
	get  func(c *Config) string
	set  func(c *Config, v string) error
}

// flagGroup selects which configuration flags a command takes.
type flagGroup int

const (
	groupDB    flagGroup = iota // --db
	groupMail                   // what building and sending messages needs
	groupSend                   // workers, batch, rate, DKIM
	groupServe                  // schedule, feeds
)

func str(p func(c *Config) *string) (func(c *Config) string, func(c *Config, v string) error) {
	return func(c *Config) string { return *p(c) }, func(c *Config, v string) error { *p(c) = strings.TrimSpace(v); return nil }
}

func positiveInt(name string, p func(c *Config) *int) (func(c *Config) string, func(c *Config, v string) error) {
	return func(c *Config) string { return strconv.Itoa(*p(c)) }, func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1000 {
			return fmt.Errorf("%s=%q: give a whole number from 1 to 1000", name, v)
		}
		*p(c) = n
		return nil
	}
}

func settings() []setting {
	s := func(env, fl, help string, g flagGroup, secret bool, get func(*Config) string, set func(*Config, string) error) setting {
		return setting{env: env, flag: fl, help: help, group: g, secret: secret, get: get, set: set}
	}
	var out []setting
	add := func(st setting) { out = append(out, st) }
	g, st := str(func(c *Config) *string { return &c.DB })
	add(s("DIGEST_DB", "db", "database `URL`: postgres://USER@HOST:5432/NAME or sqlite:PATH (default "+store.DefaultURL+")", groupDB, false, g, st))
	g, st = str(func(c *Config) *string { return &c.SMTP })
	add(s("DIGEST_SMTP", "smtp", "mail transport `URL`: smtp://USER:PASS@HOST:587, smtps://HOST:465, smtp://127.0.0.1:1025?tls=none or file:DIR (default "+DefaultSMTP+")", groupMail, true, g, st))
	g, st = str(func(c *Config) *string { return &c.From })
	add(s("DIGEST_FROM", "from", "sender, e.g. \"Kommune21 Digest <digest@kommune21.de>\"", groupMail, false, g, st))
	g, st = str(func(c *Config) *string { return &c.ReplyTo })
	add(s("DIGEST_REPLY_TO", "reply-to", "reply address shown in the footer and Reply-To", groupMail, false, g, st))
	g, st = str(func(c *Config) *string { return &c.BaseURL })
	add(s("DIGEST_BASE_URL", "base-url", "public https URL of `digest serve` for the links in emails", groupMail, false, g, st))
	g, st = str(func(c *Config) *string { return &c.Secret })
	add(s("DIGEST_SECRET", "secret", "key that signs links (one value is one whole key), or \"id:key,oldid:oldkey\" for rotation (default: a key generated in the database)", groupMail, true, g, st))
	g, st = str(func(c *Config) *string { return &c.Imprint })
	add(s("DIGEST_IMPRINT", "imprint", "imprint text for the footer (§ 5 DDG); \\n for line breaks", groupMail, false, g, st))
	g, st = str(func(c *Config) *string { return &c.ListID })
	add(s("DIGEST_LIST_ID", "list-id", "List-Id header (default derived from DIGEST_FROM)", groupMail, false, g, st))
	g, st = str(func(c *Config) *string { return &c.PortalURL })
	add(s("DIGEST_PORTAL_URL", "portal-url", "news portal URL for \"und N weitere Artikel\" (default "+DefaultPortalURL+")", groupMail, false, g, st))
	g, st = positiveInt("DIGEST_SEND_WORKERS", func(c *Config) *int { return &c.SendWorkers })
	add(s("DIGEST_SEND_WORKERS", "send-workers", "SMTP connections in parallel (default 8)", groupSend, false, g, st))
	g, st = positiveInt("DIGEST_SEND_BATCH", func(c *Config) *int { return &c.SendBatch })
	add(s("DIGEST_SEND_BATCH", "send-batch", "deliveries a worker claims at once (default 16)", groupSend, false, g, st))
	add(s("DIGEST_SEND_RATE", "send-rate", "messages per second over all workers, 0 = no limit (default 0)", groupSend, false,
		func(c *Config) string { return strconv.FormatFloat(c.SendRate, 'f', -1, 64) },
		func(c *Config, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 {
				return fmt.Errorf("DIGEST_SEND_RATE=%q: give messages per second as a number ≥ 0 (0 = no limit)", v)
			}
			c.SendRate = f
			return nil
		}))
	g, st = str(func(c *Config) *string { return &c.DKIMDomain })
	add(s("DIGEST_DKIM_DOMAIN", "dkim-domain", "DKIM signing domain (signing is on when domain, selector and key file are set)", groupSend, false, g, st))
	g, st = str(func(c *Config) *string { return &c.DKIMSelector })
	add(s("DIGEST_DKIM_SELECTOR", "dkim-selector", "DKIM selector", groupSend, false, g, st))
	g, st = str(func(c *Config) *string { return &c.DKIMKeyFile })
	add(s("DIGEST_DKIM_KEY_FILE", "dkim-key-file", "PEM file with the DKIM private key", groupSend, false, g, st))
	g, st = str(func(c *Config) *string { return &c.Schedule })
	add(s("DIGEST_SCHEDULE", "schedule", "cron spec of the weekly edition (default \""+DefaultSchedule+"\")", groupServe, false, g, st))
	g, st = str(func(c *Config) *string { return &c.ScheduleDaily })
	add(s("DIGEST_SCHEDULE_DAILY", "schedule-daily", "cron spec of the daily edition (default \""+DefaultScheduleDaily+"\")", groupServe, false, g, st))
	add(s("DIGEST_FEEDS", "feeds", "comma-separated feed URLs to poll", groupServe, false,
		func(c *Config) string { return strings.Join(c.Feeds, ",") },
		func(c *Config, v string) error {
			c.Feeds = nil
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					c.Feeds = append(c.Feeds, f)
				}
			}
			return nil
		}))
	add(s("DIGEST_FEED_INTERVAL", "feed-interval", "how often to poll the feeds, e.g. 30m (default 30m)", groupServe, false,
		func(c *Config) string { return c.FeedInterval.String() },
		func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < time.Minute {
				return fmt.Errorf("DIGEST_FEED_INTERVAL=%q: give a duration of at least 1m, e.g. 30m or 2h", v)
			}
			c.FeedInterval = d
			return nil
		}))
	g, st = str(func(c *Config) *string { return &c.ReturnPath })
	add(s("DIGEST_RETURN_PATH", "return-path", "bounce `address`, e.g. bounces@kommune21.de: each digest's envelope sender becomes bounces+r<run>.d<delivery>.<tag>@… (default off: the sender)", groupMail, false, g, st))
	g, st = str(func(c *Config) *string { return &c.Mailbox })
	add(s("DIGEST_MAILBOX", "mailbox", "IMAP `URL` of the return mailbox to poll: imaps://USER:PASS@HOST/INBOX (or imap://…?tls=none to loopback) (default off)", groupServe, true, g, st))
	add(s("DIGEST_MAILBOX_INTERVAL", "mailbox-interval", "how often to poll DIGEST_MAILBOX, e.g. 5m (default 5m)", groupServe, false,
		func(c *Config) string { return c.MailboxInterval.String() },
		func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < time.Second {
				return fmt.Errorf("DIGEST_MAILBOX_INTERVAL=%q: give a duration of at least 1s, e.g. 5m", v)
			}
			c.MailboxInterval = d
			return nil
		}))
	g, st = str(func(c *Config) *string { return &c.MetricsAddr })
	add(s("DIGEST_METRICS_ADDR", "metrics-addr", "listen `address` (host:port) of GET /metrics, separate from the public pages (default off)", groupServe, false, g, st))
	add(s("DIGEST_LOG_LEVEL", "log-level", "debug, info, warn or error (default info)", groupDB, false,
		func(c *Config) string { return strings.ToLower(c.LogLevel.String()) },
		func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(strings.TrimSpace(v))); err != nil {
				return fmt.Errorf("DIGEST_LOG_LEVEL=%q: use debug, info, warn or error", v)
			}
			return nil
		}))
	add(s("DIGEST_TRUSTED_PROXIES", "trusted-proxies", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (default none)", groupServe, false,
		func(c *Config) string {
			var parts []string
			for _, p := range c.TrustedProxies {
				parts = append(parts, p.String())
			}
			return strings.Join(parts, ",")
		},
		func(c *Config, v string) error {
			ps, err := subscribers.ParseTrustedProxies(v)
			if err != nil {
				return fmt.Errorf("DIGEST_TRUSTED_PROXIES: %v: give CIDRs such as 10.0.0.0/8,::1/128", err)
			}
			c.TrustedProxies = ps
			return nil
		}))
	add(s("DIGEST_PRIVACY_URL", "privacy-url", "privacy notice URL linked from the signup form (default none)", groupMail, false,
		func(c *Config) string { return c.PrivacyURL },
		func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
				return fmt.Errorf("DIGEST_PRIVACY_URL=%q: give an absolute http(s) URL such as https://www.example.org/datenschutz", v)
			}
			c.PrivacyURL = v
			return nil
		}))
	shows := map[string]func(string) string{
		"DIGEST_DB":         store.Redact,
		"DIGEST_SMTP":       mailer.Redact,
		"DIGEST_BASE_URL":   redact.URL,
		"DIGEST_PORTAL_URL": redact.URL,
		"DIGEST_MAILBOX":    redact.URL,
		"DIGEST_FEEDS": func(v string) string {
			var shown []string
			for _, f := range strings.Split(v, ",") {
				shown = append(shown, redact.URL(f))
			}
			return strings.Join(shown, ",")
		},
	}
	for i := range out {
		out[i].show = shows[out[i].env]
	}
	return out
}

// LoadConfig reads the DIGEST_* variables. Values are checked by Validate after
// flags have been applied.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		DB: store.DefaultURL, SMTP: DefaultSMTP, From: DefaultFrom, BaseURL: DefaultBaseURL,
		Schedule: DefaultSchedule, ScheduleDaily: DefaultScheduleDaily, PortalURL: DefaultPortalURL,
		SendWorkers: 8, SendBatch: 16, FeedInterval: 30 * time.Minute, LogLevel: slog.LevelInfo,
		set: map[string]bool{},
	}
	c.MailboxInterval = 5 * time.Minute
	for _, s := range settings() {
		if v := getenv(s.env); v != "" {
			if err := s.set(&c, v); err != nil {
				return c, err
			}
			c.set[s.env] = true
		}
	}
	c.Imprint = strings.ReplaceAll(c.Imprint, `\n`, "\n")
	return c, nil
}

// flagValue sets a Config field from a flag. String() is always empty so that
// --help never prints a current value (it may be a secret).
type flagValue struct {
	c *Config
	s setting
}

func (f flagValue) String() string { return "" }
func (f flagValue) Set(v string) error {
	if err := f.s.set(f.c, v); err != nil {
		return fmt.Errorf("%s", strings.Replace(err.Error(), f.s.env, "--"+f.s.flag, 1))
	}
	f.c.set[f.s.env] = true
	if f.s.env == "DIGEST_IMPRINT" {
		f.c.Imprint = strings.ReplaceAll(f.c.Imprint, `\n`, "\n")
	}
	return nil
}

// bind registers the configuration flags of the given groups (the database flag always).
func (c *Config) bind(fs *flag.FlagSet, groups ...flagGroup) {
	want := map[flagGroup]bool{groupDB: true}
	for _, g := range groups {
		want[g] = true
	}
	for _, s := range settings() {
		if want[s.group] {
			fs.Var(flagValue{c: c, s: s}, s.flag, s.help+" [$"+s.env+"]")
		}
	}
}

// Validate checks the values that every command relies on; its messages name
// the variable to fix.
func (c *Config) Validate() error {
	if _, err := store.ParseURL(c.DB); err != nil {
		return err
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return fmt.Errorf("DIGEST_FROM=%q is not an address: use \"Name <user@example.org>\" (%v)", c.From, err)
	}
	if from.Name != "" && !strings.Contains(c.From, "<") {
		// net/mail takes "user@example.org (Name)" as the name Name: a comment
		// is no display name, and clients show it differently.
		return fmt.Errorf("DIGEST_FROM=%q: write the newsletter's name before the address, as \"%s <%s>\"", c.From, from.Name, from.Address)
	}
	if c.ReplyTo != "" {
		if _, err := mail.ParseAddress(c.ReplyTo); err != nil {
			return fmt.Errorf("DIGEST_REPLY_TO=%q is not an address (%v)", c.ReplyTo, err)
		}
	}
	for name, raw := range map[string]string{"DIGEST_BASE_URL": c.BaseURL, "DIGEST_PORTAL_URL": c.PortalURL} {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s=%q: give an absolute http(s) URL such as https://digest.example.org", name, redact.URL(raw))
		}
		if name == "DIGEST_BASE_URL" && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(raw, "#")) {
			// every link appends its path and ?t=… to the base: a query or a
			// fragment in it breaks them all, one-click unsubscribe included
			return fmt.Errorf("%s=%q: the base URL must not have a query (?…) or fragment (#…); give the address digest serve answers at, e.g. https://digest.example.org or https://www.example.org/digest", name, redact.URL(raw))
		}
	}
	if err := c.validateInbound(); err != nil {
		return err
	}
	dkim := []string{c.DKIMDomain, c.DKIMSelector, c.DKIMKeyFile}
	if n := countSet(dkim); n != 0 && n != 3 {
		return fmt.Errorf("DKIM needs DIGEST_DKIM_DOMAIN, DIGEST_DKIM_SELECTOR and DIGEST_DKIM_KEY_FILE together; %d of 3 are set", n)
	}
	return nil
}

func countSet(vals []string) int {
	n := 0
	for _, v := range vals {
		if v != "" {
			n++
		}
	}
	return n
}

// FromAddress returns the parsed sender (Validate has checked it).
func (c *Config) FromAddress() mail.Address {
	a, _ := mail.ParseAddress(c.From)
	return *a
}

// MailDomain is the sender's domain, used for Message-IDs and the default List-Id.
func (c *Config) MailDomain() string {
	a := c.FromAddress()
	if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
		return a.Address[i+1:]
	}
	return "localhost"
}

// EffectiveListID is DIGEST_LIST_ID or one derived from the sender:
// "Kommune21 Digest <digest.kommune21.de>".
func (c *Config) EffectiveListID() string {
	if c.ListID != "" {
		return c.ListID
	}
	name := c.FromAddress().Name
	if name == "" {
		name = "Digest"
	}
	return name + " <digest." + c.MailDomain() + ">"
}

// print writes every setting with its source; secrets are redacted.
func (c *Config) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tVALUE\tSOURCE")
	for _, s := range settings() {
		v := s.get(c)
		switch {
		case s.show != nil && v != "":
			v = s.show(v)
		case s.secret && v != "":
			v = "(set, hidden)"
		}
		src := "default"
		if c.set[s.env] {
			src = "set"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.env, strings.ReplaceAll(v, "\n", `\n`), src)
	}
	tw.Flush()
}

func cmdConfig(a *app, args []string) error {
	fs := a.flags("config", "[flags]", "Print the effective configuration. Secrets are never shown.", groupMail, groupSend, groupServe)
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	a.cfg.print(a.stdout)
	return nil
}
