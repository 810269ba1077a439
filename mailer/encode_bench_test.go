package mailer

import (
	"bufio"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

// digestMessage is a message of about 58 KB (HTML and text), the size of a
// default-profile digest in cmd/digestbench.
func digestMessage() *Message {
	var html, text strings.Builder
	html.WriteString("<!DOCTYPE html>\n<html lang=\"de\"><body><table width=\"600\">\n")
	for i := 0; html.Len() < 40000; i++ {
		fmt.Fprintf(&html, "<tr><td class=\"item\" style=\"padding:16px 0;border-bottom:1px solid #d5dbe1\">\n"+
			"<h3 style=\"margin:0;font-size:18px;line-height:24px\"><a href=\"https://www.kommune21.example/meldungen/2026/%d-groessere-buergerportale.html\" style=\"color:#16324f\">Größere Bürgerportale für Kommune %d</a></h3>\n"+
			"<div class=\"teaser\" style=\"padding:6px 0 0\">%s <a href=\"https://www.kommune21.example/meldungen/2026/%d-groessere-buergerportale.html\" style=\"color:#16324f\">mehr…</a></div>\n</td></tr>\n",
			i, i, strings.Repeat("Die Stadt stellt ihre Onlinedienste um; mehr als 120 Leistungen sind digital verfügbar. ", 3), i)
		fmt.Fprintf(&text, "%d. Größere Bürgerportale für Kommune %d\n\nDie Stadt stellt ihre Onlinedienste um; mehr als\n120 Leistungen sind digital verfügbar.\n<https://www.kommune21.example/meldungen/2026/%d-groessere-buergerportale.html>\n\n", i, i, i)
	}
	html.WriteString("</table></body></html>\n")
	return &Message{
		MessageID: "r1.d1@digest.example", From: mail.Address{Name: "Kommune21 Digest", Address: "digest@kommune21.example"},
		To: mail.Address{Name: "Jürgen Müller", Address: "leser@example.org"}, Subject: "Wochenüberblick KW 8: 7 neue Artikel aus Thüringen",
		Date: time.Date(2026, 2, 23, 7, 0, 0, 0, time.UTC), Text: []byte(text.String()), HTML: []byte(html.String()),
		UnsubscribeURL: "https://kommune21.example/unsubscribe?t=abc", Bulk: true,
	}
}

// BenchmarkEncode measures the CPU of turning one digest into the bytes that
// follow DATA, without the network: go-mail's Msg (quoted-printable) through
// net/textproto's dot writer, as go-mail's Send does, against the wire
// format in 8bit and quoted-printable. bytes/msg is what goes on the wire.
//
//	go test -run XXX -bench BenchmarkEncode -benchmem ./mailer/
func BenchmarkEncode(b *testing.B) {
	m := digestMessage()
	b.Run("gomail-qp", func(b *testing.B) {
		var cw countWriter
		bw := bufio.NewWriterSize(&cw, 4096)
		tw := textproto.NewWriter(bw)
		b.ReportAllocs()
		for b.Loop() {
			msg, err := build(m, nil)
			if err != nil {
				b.Fatal(err)
			}
			cw = 0
			dw := tw.DotWriter()
			if _, err := msg.WriteTo(dw); err != nil {
				b.Fatal(err)
			}
			_ = dw.Close()
			_ = bw.Flush()
		}
		b.ReportMetric(float64(cw), "bytes/msg")
	})
	for _, eightBit := range []bool{true, false} {
		name := "wire-qp"
		if eightBit {
			name = "wire-8bit"
		}
		b.Run(name, func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				c, err := check(m)
				if err != nil {
					b.Fatal(err)
				}
				var ok bool
				if buf, ok = appendWire(buf[:0], m, &c, m.Bulk, eightBit); !ok {
					b.Fatal("not encodable")
				}
				buf = append(buf, ".\r\n"...)
			}
			b.ReportMetric(float64(len(buf)), "bytes/msg")
		})
	}
}

type countWriter int

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
