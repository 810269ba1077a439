package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"time"

	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/subscribers"
)

// sendConfirmation sends the double opt-in email to a pending subscriber: a
// plain request to confirm (no advertising, UWG § 7) with a signed link to
// DIGEST_BASE_URL/confirm. It goes out at once through DIGEST_SMTP.
func (a *app) sendConfirmation(sub subscribers.Subscriber) error {
	signer, err := a.signer()
	if err != nil {
		return err
	}
	tmpl, err := a.templateSet()
	if err != nil {
		return err
	}
	tr, err := a.transport()
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
