package mailer

import (
	"bytes"
	"hash/fnv"
	"mime"
	"strconv"
	"strings"
	"time"
)

// The 8bit wire format: when the server announces 8BITMIME (RFC 6152) and
// no DKIM signature is wanted, a message goes out with its UTF-8 bodies as
// they are (Content-Transfer-Encoding: 8bit), CRLF line ends and SMTP
// dot-stuffing applied, written straight into the connection's buffer.
//
// go-mail's own path quoted-printable-encodes every body and passes every
// byte through net/textproto's dot-stuffing writer one WriteByte at a time:
// 34 % of the product's CPU for a 61 KB digest (BENCHMARKS.md). Here the
// work per message is one scan per line (IndexByte) and a copy.
//
// The headers are the same as go-mail writes (check cleans every value
// first), so a client sees the same message; only the transfer encoding
// differs. A body that 8bit cannot carry (a line longer than 998 octets, a
// bare CR or a NUL) makes appendWire report false and the message goes
// through go-mail with quoted-printable instead.

// maxLine is the longest line SMTP allows without CRLF (RFC 5321 4.5.3.1.6).
const maxLine = 998

// appendWire appends m in the 8bit wire format, ready to follow DATA (but
// without the final ".\r\n"), to dst. ok is false when a body cannot be sent
// as 8bit.
func appendWire(dst []byte, m *Message, c *checked, bulk bool) (out []byte, ok bool) {
	h := func(name, value string) {
		dst = append(dst, name...)
		dst = append(dst, ": "...)
		dst = append(dst, value...)
		dst = append(dst, "\r\n"...)
	}
	h("Date", m.Date.Format(time.RFC1123Z))
	h("MIME-Version", "1.0")
	h("Message-ID", "<"+m.MessageID+">")
	if bulk {
		h("Precedence", "bulk")
		h("X-Auto-Response-Suppress", "All")
	}
	h("Subject", encodeHeaderText(c.subject))
	switch {
	case c.unsubscribe != "" && c.unsubMailto != "":
		h("List-Unsubscribe", "<"+c.unsubscribe+">, <"+c.unsubMailto+">")
	case c.unsubscribe != "":
		h("List-Unsubscribe", "<"+c.unsubscribe+">")
	case c.unsubMailto != "":
		h("List-Unsubscribe", "<"+c.unsubMailto+">")
	}
	if c.unsubscribe != "" {
		h("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	if c.listID != "" {
		h("List-Id", c.listID)
	}
	h("From", c.from.String())
	h("To", c.to.String())
	if c.replyTo != nil {
		h("Reply-To", c.replyTo.String())
	}
	type part struct {
		ctype string
		body  []byte
	}
	var parts []part
	if len(m.Text) > 0 {
		parts = append(parts, part{"text/plain; charset=UTF-8", m.Text})
	}
	if len(m.HTML) > 0 {
		parts = append(parts, part{"text/html; charset=UTF-8", m.HTML})
	}
	if len(parts) == 1 {
		h("Content-Transfer-Encoding", "8bit")
		h("Content-Type", parts[0].ctype)
		dst = append(dst, "\r\n"...)
		if dst, ok = appendBody(dst, parts[0].body); ok && !bytes.HasSuffix(dst, []byte("\r\n")) {
			dst = append(dst, "\r\n"...)
		}
		return dst, ok
	}
	boundary := wireBoundary(m)
	h("Content-Type", "multipart/alternative;\r\n boundary=\""+boundary+"\"")
	dst = append(dst, "\r\n"...)
	for _, p := range parts {
		if bytes.Contains(p.body, []byte(boundary)) {
			return dst, false
		}
		dst = append(dst, "--"...)
		dst = append(dst, boundary...)
		dst = append(dst, "\r\nContent-Transfer-Encoding: 8bit\r\nContent-Type: "...)
		dst = append(dst, p.ctype...)
		dst = append(dst, "\r\n\r\n"...)
		if dst, ok = appendBody(dst, p.body); !ok {
			return dst, false
		}
		// The CRLF before a boundary belongs to the boundary: the body's
		// own last line break stays part of the body.
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "--"...)
	dst = append(dst, boundary...)
	dst = append(dst, "--\r\n"...)
	return dst, true
}

// appendBody appends b with CRLF line ends and leading dots doubled (a last
// line without a line break stays without one); ok is
// false when a line is too long for SMTP or b holds a bare CR or a NUL.
func appendBody(dst, b []byte) ([]byte, bool) {
	if bytes.IndexByte(b, 0) >= 0 {
		return dst, false
	}
	for len(b) > 0 {
		line := b
		i := bytes.IndexByte(b, '\n')
		if i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > maxLine-1 || bytes.IndexByte(line, '\r') >= 0 {
			return dst, false // one octet left for a stuffed dot
		}
		if len(line) > 0 && line[0] == '.' {
			dst = append(dst, '.')
		}
		dst = append(dst, line...)
		if i >= 0 {
			dst = append(dst, "\r\n"...)
		}
	}
	return dst, true
}

// wireBoundary is a MIME boundary derived from the Message-ID, so the same
// message is written the same way every time.
func wireBoundary(m *Message) string {
	f := fnv.New64a()
	f.Write([]byte(m.MessageID))
	return "=_digest_" + strconv.FormatUint(f.Sum64(), 36)
}

// encodeHeaderText RFC 2047-encodes s when it is not plain ASCII, one
// encoded word per folded line.
func encodeHeaderText(s string) string {
	e := mime.QEncoding.Encode("UTF-8", s)
	if e == s {
		return s
	}
	return strings.ReplaceAll(e, "?= =?", "?=\r\n =?")
}
