package mailer_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
)

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}()

func sample(id, to string) *mailer.Message {
	return &mailer.Message{
		MessageID:         id,
		From:              mail.Address{Name: "Kommune21 Digest", Address: "digest@kommune21.example"},
		ReplyTo:           "redaktion@kommune21.example",
		To:                mail.Address{Name: "Jürgen Müller", Address: to},
		Subject:           "Wochenüberblick KW 8: 7 neue Artikel aus Thüringen",
		Date:              time.Date(2026, 2, 23, 7, 0, 0, 0, berlin),
		Text:              []byte("Guten Tag Herr Müller,\n\nInhalt:\n- Erfurt: Größere Bürgerportale\n"),
		HTML:              []byte(`<!DOCTYPE html><html lang="de"><body><p>Guten Tag Herr Müller,</p><p>Erfurt: Größere Bürgerportale</p></body></html>`),
		ListID:            "Kommune21 Digest <digest.kommune21.example>",
		UnsubscribeURL:    "https://kommune21.example/unsubscribe?t=abc." + id,
		UnsubscribeMailto: "mailto:unsubscribe@kommune21.example?subject=" + id,
		Bulk:              true,
	}
}

// loopback returns an SMTP transport to s without TLS.
func loopback(t testing.TB, s *smtptest.Server) mailer.Transport {
	t.Helper()
	cfg, err := mailer.ParseURL("smtp://" + s.Addr + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HELO = "sender.test"
	tr, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func open(t testing.TB, tr mailer.Transport) mailer.Conn {
	t.Helper()
	c, err := tr.Open(context.Background())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// parsed is a received message taken apart the way a mail client would.
type parsed struct {
	Header mail.Header
	Raw    string
	Parts  []part
}

type part struct {
	ContentType string
	Params      map[string]string
	Body        string
}

func parse(t testing.TB, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, data)
	}
	p := parsed{Header: msg.Header, Raw: string(data)}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, _ := io.ReadAll(msg.Body)
		p.Parts = append(p.Parts, part{ContentType: mt, Params: params, Body: string(body)})
		return p
	}
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type %s, want multipart/alternative", mt)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		pt, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		ct, ps, err := mime.ParseMediaType(pt.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		body, err := io.ReadAll(pt)
		if err != nil {
			t.Fatal(err)
		}
		p.Parts = append(p.Parts, part{ContentType: ct, Params: ps, Body: string(body)})
	}
	return p
}

func decodeHeader(t testing.TB, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode %q: %v", v, err)
	}
	return s
}
