package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
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
	nm, err := a.noticeMailer()
	if err != nil {
		return err
	}
	return nm.SendNotice(a.ctx, subscribers.Notice{Kind: subscribers.NoticeConfirm, Name: sub.Name, Email: sub.Email,
		ConfirmURL: signer.URL(a.cfg.BaseURL, subscribers.PurposeConfirm, sub.ID, sub.Email)})
}

// noticeMailer sends the single mails about a subscription (confirmation,
// "already subscribed", links): rendered from the templates, sent at once
// through DIGEST_SMTP on a connection of their own. It implements
// subscribers.Mailer for the public pages of `digest serve`.
type noticeMailer struct {
	a    *app
	tmpl *templates.Set
	tr   mailer.Transport
}

func (a *app) noticeMailer() (*noticeMailer, error) {
	tmpl, err := a.templateSet()
	if err != nil {
		return nil, err
	}
	tr, err := a.transport()
	if err != nil {
		return nil, err
	}
	return &noticeMailer{a: a, tmpl: tmpl, tr: tr}, nil
}

// SendNotice renders and sends n.
func (m *noticeMailer) SendNotice(ctx context.Context, n subscribers.Notice) error {
	var subject, text, html string
	var err error
	switch n.Kind {
	case subscribers.NoticeConfirm:
		subject, text, html, err = m.tmpl.Confirmation(n.Name, n.Email, n.ConfirmURL)
	case subscribers.NoticeAlreadySubscribed, subscribers.NoticeLinks:
		subject, text, html, err = m.tmpl.Links(n.Name, n.Email, n.PreferencesURL, n.UnsubscribeURL, n.Kind == subscribers.NoticeAlreadySubscribed)
	default:
		err = fmt.Errorf("unknown notice kind %q", n.Kind)
	}
	if err != nil {
		return fmt.Errorf("%s mail: %w", n.Kind, err)
	}
	var nonce [8]byte
	rand.Read(nonce[:])
	cfg := m.a.cfg
	msg := &mailer.Message{
		MessageID: fmt.Sprintf("%s.%d.%s@%s", n.Kind, time.Now().Unix(), hex.EncodeToString(nonce[:]), cfg.MailDomain()),
		From:      cfg.FromAddress(),
		ReplyTo:   cfg.ReplyTo,
		To:        mail.Address{Name: n.Name, Address: n.Email},
		Subject:   subject,
		Date:      time.Now(),
		Text:      []byte(text),
		HTML:      []byte(html),
	}
	conn, err := m.tr.Open(ctx)
	if err != nil {
		return fmt.Errorf("%s mail: %w", n.Kind, err)
	}
	defer conn.Close()
	if err := conn.Send(ctx, msg); err != nil {
		return fmt.Errorf("%s mail not sent: %w", n.Kind, err)
	}
	m.a.log.Info("mail sent", "kind", string(n.Kind), "transport", m.tr.String())
	return nil
}
