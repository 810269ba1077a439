package mailer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
)

// The envelope sender (where bounces go) can differ from From; it is used in
// MAIL FROM and never written as a header.
func TestSend_EnvelopeFrom(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	m := sample("r12.d3456@digest.kommune21.example", "anna@example.org")
	m.EnvelopeFrom = "bounces+r12.d3456.k7f3qabc@kommune21.example"
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := s.WaitFor(t, 1, 5*time.Second)[0]
	if got.From != m.EnvelopeFrom {
		t.Errorf("MAIL FROM %q, want %q", got.From, m.EnvelopeFrom)
	}
	h := parse(t, got.Data).Header
	if f := h.Get("From"); f == "" || h.Get("Return-Path") != "" || h.Get("EnvelopeFrom") != "" {
		t.Errorf("From %q, Return-Path %q, EnvelopeFrom %q: the envelope sender leaked into the header", f, h.Get("Return-Path"), h.Get("EnvelopeFrom"))
	}

	bad := sample("r12.d3457@digest.kommune21.example", "anna@example.org")
	bad.EnvelopeFrom = "bounces@kommune21.example>\r\nBcc: x@evil.example"
	var me *mailer.MessageError
	if err := c.Send(context.Background(), bad); !errors.As(err, &me) || me.Field != "EnvelopeFrom" {
		t.Errorf("hostile envelope sender: %v", err)
	}
}
