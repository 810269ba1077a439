package main

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/internal/redact"
	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/templates"
)

// now is the clock: the --at time when given, otherwise the real time.
func (a *app) now(at time.Time) func() time.Time {
	if at.IsZero() {
		return time.Now
	}
	return func() time.Time { return at }
}

// newsletterName is the sender's display name, e.g. "Kommune21 Digest".
func (a *app) newsletterName() string {
	if n := a.cfg.FromAddress().Name; n != "" {
		return n
	}
	return "Digest"
}

// templateSet parses the email templates once.
func (a *app) templateSet() (*templates.Set, error) {
	reply := a.cfg.ReplyTo
	if reply == "" {
		reply = a.cfg.FromAddress().Address
	}
	if r, err := mail.ParseAddress(reply); err == nil {
		reply = r.Address
	}
	return templates.New(templates.Site{Name: a.newsletterName(), PortalURL: a.cfg.PortalURL, Imprint: a.cfg.Imprint, ReplyTo: reply})
}

// transport opens the configured mail transport. The returned description is
// safe to print (no password). Unless the command never sends (a.noSend), it
// says once where mail goes when DIGEST_SMTP is unset.
func (a *app) transport() (mailer.Transport, error) {
	mc, err := mailer.ParseURL(a.cfg.SMTP)
	if err != nil {
		return nil, fmt.Errorf("DIGEST_SMTP: %w", err)
	}
	if a.cfg.DKIMDomain != "" {
		mc.DKIM = mailer.DKIMConfig{Domain: a.cfg.DKIMDomain, Selector: a.cfg.DKIMSelector, KeyFile: a.cfg.DKIMKeyFile}
	}
	mc.HELO = a.cfg.MailDomain()
	t, err := mailer.New(mc)
	if err != nil {
		return nil, fmt.Errorf("DIGEST_SMTP: %w", err)
	}
	if !a.cfg.set["DIGEST_SMTP"] && !a.noSend && !a.smtpNoted {
		a.smtpNoted = true
		fmt.Fprintf(a.stderr, "note: DIGEST_SMTP is not set: mail goes to %s as .eml files\n", t)
	}
	a.warnRelaySettings()
	return t, nil
}

// warnRelaySettings warns once per command, naming the variable, about
// settings that are fine for trials but wrong for mail to real readers: it
// speaks only when DIGEST_SMTP is a relay that is not on this machine.
func (a *app) warnRelaySettings() {
	if a.relayWarned || a.noSend || !realRelay(a.cfg.SMTP) {
		return
	}
	a.relayWarned = true
	warn := func(format string, args ...any) { fmt.Fprintf(a.stderr, "warning: "+format+"\n", args...) }
	if from := a.cfg.FromAddress(); !a.cfg.set["DIGEST_FROM"] || !strings.Contains(from.Address[strings.LastIndex(from.Address, "@")+1:], ".") {
		warn("DIGEST_FROM is %q: mail to real readers needs your own sender address and domain, e.g. \"Kommune21 Digest <digest@kommune21.de>\"", a.cfg.From)
	}
	if u, err := url.Parse(a.cfg.BaseURL); err == nil && u.Scheme != "https" {
		warn("DIGEST_BASE_URL is %s: the links in the mails (unsubscribe, preferences) need the public https address of digest serve; without https there is no one-click unsubscribe", redact.URL(a.cfg.BaseURL))
	}
	if strings.TrimSpace(a.cfg.Imprint) == "" {
		warn("DIGEST_IMPRINT is empty: a German publisher's newsletter needs an imprint (§ 5 DDG) in the footer")
	}
}

// realRelay reports whether an SMTP URL names a server that is not on this
// machine (file: outboxes and loopback test servers are not).
func realRelay(smtpURL string) bool {
	u, err := url.Parse(smtpURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// runner wires planning and sending with the clock now.
func (a *app) runner(now func() time.Time) (*digest.Runner, error) {
	db, err := a.openDB()
	if err != nil {
		return nil, err
	}
	tmpl, err := a.templateSet()
	if err != nil {
		return nil, err
	}
	tr, err := a.transport()
	if err != nil {
		return nil, err
	}
	if mc, _ := mailer.ParseURL(a.cfg.SMTP); mc.Scheme != "file" && !strings.HasPrefix(a.cfg.BaseURL, "https://") && !isLoopbackHost(mc.Host) {
		return nil, fmt.Errorf("DIGEST_BASE_URL=%q: links in mail sent through %s must be https (one-click unsubscribe, RFC 8058); set DIGEST_BASE_URL to the public https address of `digest serve`", a.cfg.BaseURL, tr)
	}
	signer, err := a.signer()
	if err != nil {
		return nil, err
	}
	mailto := a.cfg.ReplyTo
	if mailto == "" {
		mailto = a.cfg.FromAddress().Address
	} else if r, err := mail.ParseAddress(mailto); err == nil {
		mailto = r.Address
	}
	sender := &digest.Sender{
		DB: db, Templates: tmpl, Transport: tr, Links: subscribers.Links{Signer: signer, Base: a.cfg.BaseURL, Mailto: mailto},
		Message: digest.MessageOptions{From: a.cfg.FromAddress(), ReplyTo: a.cfg.ReplyTo, ListID: a.cfg.EffectiveListID(),
			Domain: a.cfg.MailDomain(), UnsubscribeMailto: "mailto:" + mailto + "?subject=Abmelden"},
		Workers: a.cfg.SendWorkers, Batch: a.cfg.SendBatch, Rate: a.cfg.SendRate, Now: now, Log: a.log,
	}
	if rp, err := a.returnPath(signer); err != nil {
		return nil, err
	} else if rp != nil {
		sender.ReturnPath = rp
	}
	return &digest.Runner{Planner: &digest.Planner{DB: db, Now: now}, Sender: sender, Log: a.log}, nil
}

// isLoopbackHost reports whether host is this machine (local trials may use http links).
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
