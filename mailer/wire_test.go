package mailer_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
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

// without8BITMIME puts a loopback proxy in front of s that removes 8BITMIME
// from the server's EHLO answer (go-smtp always announces it) and records
// what the client sent; it returns a transport to the proxy.
func without8BITMIME(t *testing.T, s *smtptest.Server) (mailer.Transport, *bytes.Buffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var mu sync.Mutex
	var sent bytes.Buffer
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", s.Addr)
			if err != nil {
				_ = c.Close()
				return
			}
			go func() {
				defer up.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						mu.Lock()
						sent.Write(buf[:n])
						mu.Unlock()
						if _, err := up.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
			go func() {
				defer c.Close()
				r := bufio.NewReader(up)
				for {
					line, err := r.ReadString('\n')
					if strings.Contains(line, "8BITMIME") {
						continue
					}
					if _, werr := io.WriteString(c, line); werr != nil || err != nil {
						return
					}
				}
			}()
		}
	}()
	cfg, err := mailer.ParseURL("smtp://" + ln.Addr().String() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr, &sent
}

// The same message to a server with and without 8BITMIME arrives with the
// same text and HTML: 8bit where the server takes it, quoted-printable (7-bit,
// short lines, no BODY=8BITMIME) where it does not.
func TestSend_SameContentWithAndWithout8BITMIME(t *testing.T) {
	m := sample("r1.d3@x.example", "leser@example.org")
	m.Text = []byte(".Punkt am Anfang\n..zwei Punkte\nGrüße aus Thüringen \nTab\t\nx=1\n.\n")
	m.HTML = []byte("<p style=\"color:#16324f\">Größere Bürgerportale</p>\r\n.<b>x</b>\n" + strings.Repeat("<td>Verwaltung</td>", 40) + "\n")
	for _, tc := range []struct {
		name     string
		eightBit bool
	}{{"8BITMIME", true}, {"no 8BITMIME", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := smtptest.Start(t)
			tr, sent := loopback(t, s), (*bytes.Buffer)(nil)
			if !tc.eightBit {
				tr, sent = without8BITMIME(t, s)
			}
			c := open(t, tr)
			if err := c.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			p := parse(t, s.WaitFor(t, 1, 5*time.Second)[0].Data)
			want := "8bit"
			if !tc.eightBit {
				want = "quoted-printable"
				_, body, _ := strings.Cut(p.Raw, "\r\n\r\n")
				for i, line := range strings.Split(body, "\r\n") {
					if len(line) > 76 || strings.IndexFunc(line, func(r rune) bool { return r > '~' }) >= 0 {
						t.Errorf("body line %d is not 7-bit quoted-printable: %q", i+1, line)
					}
				}
				if strings.Contains(sent.String(), "BODY=8BITMIME") {
					t.Error("MAIL FROM says BODY=8BITMIME to a server that did not announce it")
				}
			}
			if n := strings.Count(p.Raw, "Content-Transfer-Encoding: "+want); n != 2 {
				t.Errorf("%d parts in %s, want 2:\n%s", n, want, p.Raw)
			}
			if len(p.Parts) != 2 {
				t.Fatalf("%d parts, want 2", len(p.Parts))
			}
			for i, body := range [][]byte{m.Text, m.HTML} {
				w := strings.ReplaceAll(string(body), "\r\n", "\n")
				if g := strings.ReplaceAll(p.Parts[i].Body, "\r\n", "\n"); g != w {
					t.Errorf("part %d = %q, want %q", i, g, w)
				}
			}
			if d := decodeHeader(t, p.Header.Get("Subject")); d != m.Subject {
				t.Errorf("Subject = %q, want %q", d, m.Subject)
			}
		})
	}
}

// A single-part message without a last line break arrives without one when
// it goes quoted-printable.
func TestSend_SinglePartQuotedPrintableKeepsItsEnd(t *testing.T) {
	s := smtptest.Start(t)
	tr, _ := without8BITMIME(t, s)
	c := open(t, tr)
	m := sample("r1.d4@x.example", "leser@example.org")
	m.Text, m.HTML = []byte("Grüße\n.Ende ohne Zeilenumbruch"), nil
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := parse(t, s.WaitFor(t, 1, 5*time.Second)[0].Data)
	if len(p.Parts) != 1 || !strings.Contains(p.Raw, "quoted-printable") {
		t.Fatalf("want one quoted-printable part:\n%s", p.Raw)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(p.Parts[0].Body)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.ReplaceAll(string(body), "\r\n", "\n"), string(m.Text); got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}
