package mailer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
)

// A server that announces 8BITMIME gets the bodies as they are: UTF-8 in
// 8bit, lines that start with a dot intact after the server undoes the
// dot-stuffing, the last line break of each part kept.
func TestSend_8bitWhenServerAnnouncesIt(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	m := sample("r1.d1@x.example", "leser@example.org")
	m.Text = []byte(".Punkt am Anfang\n..zwei Punkte\nGrüße aus Thüringen\n.\n")
	m.HTML = []byte("<p>Größere Bürgerportale</p>\n.<b>x</b>")
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := s.WaitFor(t, 1, 5*time.Second)[0]
	p := parse(t, got.Data)
	if n := strings.Count(p.Raw, "Content-Transfer-Encoding: 8bit"); n != 2 {
		t.Errorf("%d parts in 8bit, want 2:\n%s", n, p.Raw)
	}
	if !strings.Contains(p.Raw, "Grüße aus Thüringen") {
		t.Errorf("umlauts were encoded although the server takes 8bit:\n%s", p.Raw)
	}
	if len(p.Parts) != 2 {
		t.Fatalf("%d parts, want 2", len(p.Parts))
	}
	for i, want := range []string{string(m.Text), string(m.HTML)} {
		if g := strings.ReplaceAll(p.Parts[i].Body, "\r\n", "\n"); g != want {
			t.Errorf("part %d = %q, want %q", i, g, want)
		}
	}
	if d := decodeHeader(t, p.Header.Get("Subject")); d != m.Subject {
		t.Errorf("Subject = %q, want %q", d, m.Subject)
	}
}

// A line longer than SMTP allows (998 octets) cannot go as 8bit: the
// message goes quoted-printable instead, and arrives the same.
func TestSend_LongLineFallsBackToQuotedPrintable(t *testing.T) {
	s := smtptest.Start(t)
	c := open(t, loopback(t, s))
	m := sample("r1.d2@x.example", "leser@example.org")
	m.HTML = []byte("<p>" + strings.Repeat("Bürgerportal ", 200) + "</p>")
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := parse(t, s.WaitFor(t, 1, 5*time.Second)[0].Data)
	if strings.Contains(p.Raw, "8bit") || !strings.Contains(p.Raw, "quoted-printable") {
		t.Errorf("want quoted-printable for a 2,600-octet line:\n%.600s", p.Raw)
	}
	if len(p.Parts) != 2 || p.Parts[1].Body != string(m.HTML) {
		t.Errorf("HTML part changed on the way")
	}
}
