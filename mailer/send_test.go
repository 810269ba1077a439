package mailer_test

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
)

func TestSend_Headers(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	m := sample("r12.d3456@digest.kommune21.example", "juergen@example.org")
	m.To.Name = `Jürgen "JJ" Müller\Sohn`
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := s.WaitFor(t, 1, 5*time.Second)[0]
	if got.From != "digest@kommune21.example" || len(got.To) != 1 || got.To[0] != "juergen@example.org" {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	p := parse(t, got.Data)
	h := p.Header

	from, err := mail.ParseAddress(h.Get("From"))
	if err != nil || from.Name != "Kommune21 Digest" || from.Address != "digest@kommune21.example" {
		t.Errorf("From = %q (%v)", h.Get("From"), err)
	}
	to, err := mail.ParseAddress(h.Get("To"))
	if err != nil || to.Name != `Jürgen "JJ" Müller\Sohn` || to.Address != "juergen@example.org" {
		t.Errorf("To = %q → %+v (%v)", h.Get("To"), to, err)
	}
	if rt := h.Get("Reply-To"); !strings.Contains(rt, "redaktion@kommune21.example") {
		t.Errorf("Reply-To = %q", rt)
	}
	subj := h.Get("Subject")
	if !strings.HasPrefix(subj, "=?UTF-8?") {
		t.Errorf("Subject not RFC 2047 encoded: %q", subj)
	}
	if d := decodeHeader(t, subj); d != m.Subject {
		t.Errorf("Subject = %q, want %q", d, m.Subject)
	}
	date, err := h.Date()
	if err != nil || !date.Equal(m.Date) {
		t.Errorf("Date = %q (%v), want %v", h.Get("Date"), err, m.Date)
	}
	want := map[string]string{
		"Message-Id":            "<r12.d3456@digest.kommune21.example>",
		"List-Id":               "Kommune21 Digest <digest.kommune21.example>",
		"List-Unsubscribe":      "<" + m.UnsubscribeURL + ">, <" + m.UnsubscribeMailto + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Precedence":            "bulk",
		"Mime-Version":          "1.0",
	}
	for k, v := range want {
		if g := h.Get(k); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	if len(p.Parts) != 2 {
		t.Fatalf("%d parts, want 2", len(p.Parts))
	}
	for i, w := range []struct{ ct, body string }{{"text/plain", string(m.Text)}, {"text/html", string(m.HTML)}} {
		pt := p.Parts[i]
		if pt.ContentType != w.ct || !strings.EqualFold(pt.Params["charset"], "utf-8") {
			t.Errorf("part %d: %s %v, want %s; charset=UTF-8", i, pt.ContentType, pt.Params, w.ct)
		}
		if strings.ReplaceAll(pt.Body, "\r\n", "\n") != w.body {
			t.Errorf("part %d body = %q, want %q", i, pt.Body, w.body)
		}
	}
	if strings.Contains(p.Raw, "User-Agent") || strings.Contains(p.Raw, "X-Mailer") {
		t.Errorf("message advertises the mailer software")
	}
}

func TestSend_OnlyMailtoAndNoList(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	m := sample("a@x.example", "a@example.org")
	m.UnsubscribeURL, m.ListID, m.Bulk = "", "", false
	m.HTML = nil
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := parse(t, s.WaitFor(t, 1, 5*time.Second)[0].Data)
	if g := p.Header.Get("List-Unsubscribe"); g != "<"+m.UnsubscribeMailto+">" {
		t.Errorf("List-Unsubscribe = %q", g)
	}
	for _, k := range []string{"List-Unsubscribe-Post", "List-Id", "Precedence"} {
		if _, ok := p.Header[k]; ok {
			t.Errorf("unexpected %s: %q", k, p.Header.Get(k))
		}
	}
	if len(p.Parts) != 1 || p.Parts[0].ContentType != "text/plain" {
		t.Errorf("parts = %+v, want one text/plain", p.Parts)
	}
}

func TestSend_HostileFieldsCannotInjectHeaders(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	m := sample("h1@x.example", "bob@example.org")
	m.To.Name = "Bob\r\nBcc: evil@attacker.example"
	m.From.Name = "Digest\nX-Evil: 1"
	m.Subject = "Hallo\r\nBcc: evil@attacker.example\r\n\r\nbody"
	m.ListID = "Liste\r\nX-Evil: 2 <list.example.org>"
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := s.WaitFor(t, 1, 5*time.Second)[0]
	if len(got.To) != 1 || got.To[0] != "bob@example.org" {
		t.Errorf("envelope recipients %q", got.To)
	}
	h := parse(t, got.Data).Header
	if n := len(h["To"]); n != 1 {
		t.Errorf("%d To headers", n)
	}
	for _, k := range []string{"Bcc", "X-Evil", "Cc"} {
		if v, ok := h[k]; ok {
			t.Errorf("injected header %s: %q", k, v)
		}
	}
	to, err := mail.ParseAddress(h.Get("To"))
	if err != nil || to.Address != "bob@example.org" || strings.ContainsAny(to.Name, "\r\n") {
		t.Errorf("To = %+v (%v)", to, err)
	}
	if subj := decodeHeader(t, h.Get("Subject")); strings.ContainsAny(subj, "\r\n") {
		t.Errorf("Subject kept a line break: %q", subj)
	}

	// Identifiers with line breaks are refused, nothing is sent.
	for name, mutate := range map[string]func(*mailer.Message){
		"To address":  func(m *mailer.Message) { m.To.Address = "bob@example.org\r\nBcc: evil@x.example" },
		"From":        func(m *mailer.Message) { m.From.Address = "a@b.example>\r\nX: y" },
		"Message-ID":  func(m *mailer.Message) { m.MessageID = "x@y\r\nBcc: evil@x.example" },
		"https URL":   func(m *mailer.Message) { m.UnsubscribeURL = "https://x.example/u\r\nBcc: evil@x.example" },
		"mailto":      func(m *mailer.Message) { m.UnsubscribeMailto = "mailto:a@b.example>\r\nBcc: <evil@x.example" },
		"http URL":    func(m *mailer.Message) { m.UnsubscribeURL = "http://x.example/u" },
		"Reply-To":    func(m *mailer.Message) { m.ReplyTo = "x@y.example\nBcc: evil@x.example" },
		"no Date":     func(m *mailer.Message) { m.Date = time.Time{} },
		"empty body":  func(m *mailer.Message) { m.Text, m.HTML = nil, nil },
		"bad List-Id": func(m *mailer.Message) { m.ListID = "Liste <a b>" },
	} {
		m := sample("bad@x.example", "bob@example.org")
		mutate(m)
		err := c.Send(context.Background(), m)
		if err == nil {
			t.Errorf("%s: Send accepted a malformed message", name)
			continue
		}
		if r := mailer.Classify(err); r.Kind != mailer.Failed || !strings.HasPrefix(r.Reason, "invalid message") {
			t.Errorf("%s: Classify = %+v, want Failed invalid message", name, r)
		}
	}
	// The connection is still fine after refused messages.
	if err := c.Send(context.Background(), sample("h2@x.example", "carol@example.org")); err != nil {
		t.Fatal(err)
	}
	if got := s.WaitFor(t, 2, 5*time.Second); len(got) != 2 {
		t.Errorf("server got %d messages, want 2", len(got))
	}
}

func TestSend_NoHeadersLeakBetweenMessages(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	first := sample("m1@x.example", "anna@example.org")
	second := sample("m2@x.example", "bert@example.org")
	second.UnsubscribeMailto = ""
	second.ReplyTo = ""
	third := sample("m3@x.example", "carl@example.org")
	third.UnsubscribeURL, third.UnsubscribeMailto, third.ListID, third.Bulk = "", "", "", false
	for _, m := range []*mailer.Message{first, second, third} {
		if err := c.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	got := s.WaitFor(t, 3, 5*time.Second)
	h2 := parse(t, got[1].Data).Header
	if g, w := h2.Get("List-Unsubscribe"), "<"+second.UnsubscribeURL+">"; g != w {
		t.Errorf("second List-Unsubscribe = %q, want %q", g, w)
	}
	if _, ok := h2["Reply-To"]; ok {
		t.Errorf("second message has the first one's Reply-To")
	}
	if to := h2.Get("To"); !strings.Contains(to, "bert@example.org") || strings.Contains(to, "anna") {
		t.Errorf("second To = %q", to)
	}
	h3 := parse(t, got[2].Data).Header
	for _, k := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Precedence"} {
		if v, ok := h3[k]; ok {
			t.Errorf("third message has %s %q from an earlier one", k, v)
		}
	}
	for i, r := range got {
		if want := []string{"anna@example.org", "bert@example.org", "carl@example.org"}[i]; len(r.To) != 1 || r.To[0] != want {
			t.Errorf("message %d envelope to %q, want %s", i, r.To, want)
		}
	}
}

func TestSend_TLS(t *testing.T) {
	t.Run("STARTTLS", func(t *testing.T) {
		s := smtptest.Start(t, smtptest.WithStartTLS())
		cfg, err := mailer.ParseURL("smtp://" + s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLSConfig = s.ClientTLSConfig()
		sendOne(t, s, cfg)
	})
	t.Run("implicit", func(t *testing.T) {
		s := smtptest.Start(t, smtptest.WithImplicitTLS())
		cfg, err := mailer.ParseURL("smtps://" + s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLSConfig = s.ClientTLSConfig()
		sendOne(t, s, cfg)
	})
	t.Run("STARTTLS required", func(t *testing.T) {
		s := smtptest.Start(t) // offers no STARTTLS
		cfg, err := mailer.ParseURL("smtp://" + s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := mailer.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tr.Open(context.Background())
		r := mailer.Classify(err)
		if err == nil || !r.Connection || r.Kind != mailer.Retry || !strings.Contains(r.Reason, "STARTTLS") {
			t.Errorf("Open against a server without STARTTLS: %v → %+v", err, r)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		s := smtptest.Start(t, smtptest.WithStartTLS())
		cfg, _ := mailer.ParseURL("smtp://" + s.Addr)
		tr, _ := mailer.New(cfg)
		if _, err := tr.Open(context.Background()); err == nil {
			t.Errorf("Open trusted a self-signed certificate")
		}
	})
}

func sendOne(t *testing.T, s *smtptest.Server, cfg mailer.Config) {
	t.Helper()
	tr, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, tr)
	if err := c.Send(context.Background(), sample("tls@x.example", "t@example.org")); err != nil {
		t.Fatal(err)
	}
	s.WaitFor(t, 1, 5*time.Second)
}

// TestSend_IDNDomainAsALabel: an internationalised domain goes out as
// A-labels in RCPT TO and in the To header, which every server accepts.
func TestSend_IDNDomainAsALabel(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	if err := c.Send(context.Background(), sample("r1.d1@digest.kommune21.example", "info@münchen.de")); err != nil {
		t.Fatal(err)
	}
	got := s.WaitFor(t, 1, 5*time.Second)[0]
	if len(got.To) != 1 || got.To[0] != "info@xn--mnchen-3ya.de" {
		t.Errorf("RCPT TO %q, want info@xn--mnchen-3ya.de", got.To)
	}
	to, err := mail.ParseAddress(parse(t, got.Data).Header.Get("To"))
	if err != nil || to.Address != "info@xn--mnchen-3ya.de" {
		t.Errorf("To = %+v (%v)", to, err)
	}
}
