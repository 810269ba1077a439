package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/templates"
)

// sendConfirmation sends the double opt-in email to a pending subscriber: a
// plain request to confirm (no advertising, UWG § 7) with a signed link to
// DIGEST_BASE_URL/confirm. It goes out at once through DIGEST_SMTP.
func (a *app) sendConfirmation(sub subscribers.Subscriber) error {
	signer, err := a.signer()
	if err != nil {
		return err
	}
	tmpl, err := a.emailTemplates()
	if err != nil {
		return err
	}
	tr, err := a.mailTransport()
	if err != nil {
		return err
	}
	confirmURL := signer.URL(a.cfg.BaseURL, subscribers.PurposeConfirm, sub.ID, sub.Email)
	subject, text, html, err := tmpl.Confirmation(sub.Name, sub.Email, confirmURL)
	if err != nil {
		return fmt.Errorf("confirmation for %s: %w", sub.Email, err)
	}
	var nonce [6]byte
	rand.Read(nonce[:])
	msg := &mailer.Message{
		MessageID: fmt.Sprintf("confirm.%d.%d.%s@%s", sub.ID, time.Now().Unix(), hex.EncodeToString(nonce[:]), a.cfg.MailDomain()),
		From:      a.cfg.FromAddress(),
		ReplyTo:   a.cfg.ReplyTo,
		To:        mail.Address{Name: sub.Name, Address: sub.Email},
		Subject:   subject,
		Date:      time.Now(),
		Text:      []byte(text),
		HTML:      []byte(html),
	}
	conn, err := tr.Open(a.ctx)
	if err != nil {
		return fmt.Errorf("confirmation for %s: %w", sub.Email, err)
	}
	defer conn.Close()
	if err := conn.Send(a.ctx, msg); err != nil {
		return fmt.Errorf("confirmation for %s not sent: %w", sub.Email, err)
	}
	a.log.Info("confirmation sent", "subscriber_id", sub.ID, "transport", tr.String())
	return nil
}

// siteName is the newsletter's name: the display name of DIGEST_FROM.
func (a *app) siteName() string {
	if n := strings.TrimSpace(a.cfg.FromAddress().Name); n != "" {
		return n
	}
	return "Digest"
}

// emailTemplates parses the email templates for the configured site.
func (a *app) emailTemplates() (*templates.Set, error) {
	return templates.New(templates.Site{
		Name: a.siteName(), PortalURL: a.cfg.PortalURL, Imprint: a.cfg.Imprint, ReplyTo: a.cfg.ReplyTo,
	})
}

// mailTransport opens the configured transport (DIGEST_SMTP, DKIM). With the
// default file:outbox it says where the mail goes, on stderr.
func (a *app) mailTransport() (mailer.Transport, error) {
	cfg, err := mailer.ParseURL(a.cfg.SMTP)
	if err != nil {
		return nil, fmt.Errorf("DIGEST_SMTP: %w", err)
	}
	cfg.DKIM = mailer.DKIMConfig{Domain: a.cfg.DKIMDomain, Selector: a.cfg.DKIMSelector, KeyFile: a.cfg.DKIMKeyFile}
	tr, err := mailer.New(cfg)
	if err != nil {
		return nil, err
	}
	if !a.cfg.set["DIGEST_SMTP"] {
		fmt.Fprintf(a.stderr, "digest: DIGEST_SMTP is not set: mail is written to %s\n", tr)
	}
	return tr, nil
}
