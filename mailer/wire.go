package mailer

import (
	"bytes"
	"hash/fnv"
	"mime"
	"strconv"
	"strings"
	"time"
)

// The wire format: when no DKIM signature is wanted, a message is written
// here, straight into the connection's buffer, not by go-mail's Msg.WriteTo.
//
//   - 8bit: when the server announces 8BITMIME (RFC 6152), the UTF-8 bodies
//     go as they are (Content-Transfer-Encoding: 8bit) with CRLF line ends
//     and SMTP dot-stuffing; the work per message is one scan per line
//     (IndexByte) and a copy.
//   - quoted-printable otherwise, or when 8bit cannot carry a body (a line
//     longer than 998 octets, a bare CR or a NUL): one pass over each body
//     with a table lookup per byte that copies runs of safe bytes, soft
//     breaks at 76 columns, and a "." at the start of a line written as
//     "=2E", so the output never needs dot-stuffing.
//
// go-mail's own path quoted-printable-encodes every body and then passes
// every byte through net/textproto's dot-stuffing writer one WriteByte at a
// time: 34 % of the product's CPU for a 61 KB digest (BENCHMARKS.md). It
// stays for DKIM, whose signer works on go-mail's Msg.
//
// The headers are the same as go-mail writes (check cleans every value
// first), so a client sees the same message; only the transfer encoding of
// the bodies may differ.

// maxLine is the longest line SMTP allows without CRLF (RFC 5321 4.5.3.1.6).
const maxLine = 998

// appendWire appends m in the wire format, ready to follow DATA (but
// without the final ".\r\n"), to dst: its bodies 8bit when eightBit is
// set, else quoted-printable. ok is false when a body cannot be sent as
// 8bit (quoted-printable always succeeds).
func appendWire(dst []byte, m *Message, c *checked, bulk, eightBit bool) (out []byte, ok bool) {
	cte, appendPart := "quoted-printable", appendQP
	if eightBit {
		cte, appendPart = "8bit", appendBody
	}
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
		h("Content-Transfer-Encoding", cte)
		h("Content-Type", parts[0].ctype)
		dst = append(dst, "\r\n"...)
		if dst, ok = appendPart(dst, parts[0].body); ok && !bytes.HasSuffix(dst, []byte("\r\n")) {
			if !eightBit {
				dst = append(dst, '=') // a soft break: the body keeps its missing last line break
			}
			dst = append(dst, "\r\n"...)
		}
		return dst, ok
	}
	boundary := wireBoundary(m)
	h("Content-Type", "multipart/alternative;\r\n boundary=\""+boundary+"\"")
	dst = append(dst, "\r\n"...)
	for _, p := range parts {
		// A quoted-printable body cannot hold the boundary: it starts
		// with "=_", and every "=" of a body is written "=3D".
		if eightBit && bytes.Contains(p.body, []byte(boundary)) {
			return dst, false
		}
		dst = append(dst, "--"...)
		dst = append(dst, boundary...)
		dst = append(dst, "\r\nContent-Transfer-Encoding: "...)
		dst = append(dst, cte...)
		dst = append(dst, "\r\nContent-Type: "...)
		dst = append(dst, p.ctype...)
		dst = append(dst, "\r\n\r\n"...)
		if dst, ok = appendPart(dst, p.body); !ok {
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

// nextLine splits b at its first line break ("\n" or "\r\n"): the line
// without the break, the rest, and whether there was a break (a last line
// without one has none).
func nextLine(b []byte) (line, rest []byte, broke bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil, false
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:], true
}

// appendBody appends b with CRLF line ends and leading dots doubled (a last
// line without a line break stays without one); ok is
// false when a line is too long for SMTP or b holds a bare CR or a NUL.
func appendBody(dst, b []byte) ([]byte, bool) {
	if bytes.IndexByte(b, 0) >= 0 {
		return dst, false
	}
	for len(b) > 0 {
		var line []byte
		var broke bool
		line, b, broke = nextLine(b)
		if len(line) > maxLine-1 || bytes.IndexByte(line, '\r') >= 0 {
			return dst, false // one octet left for a stuffed dot
		}
		if len(line) > 0 && line[0] == '.' {
			dst = append(dst, '.')
		}
		dst = append(dst, line...)
		if broke {
			dst = append(dst, "\r\n"...)
		}
	}
	return dst, true
}

// qpLineMax is the longest encoded line before a soft line break ("=")
// brings it to the 76 characters RFC 2045 allows.
const qpLineMax = 75

// qpLiteral marks the bytes a quoted-printable body carries as they are:
// printable ASCII except "=", and space and tab (encoded at the end of a
// line, see appendQP).
var qpLiteral = func() (t [256]bool) {
	for c := ' '; c <= '~'; c++ {
		t[c] = c != '='
	}
	t['\t'] = true
	return t
}()

const upperHex = "0123456789ABCDEF"

// appendQP appends b quoted-printable encoded (RFC 2045 6.7) with CRLF line
// ends: a line break of b ("\n" or "\r\n") is a hard line break, a last
// line without one stays without one. A "." that starts an encoded line is
// written "=2E", so the result never needs SMTP dot-stuffing. It always
// succeeds; ok is for the signature appendWire shares with appendBody.
func appendQP(dst, b []byte) ([]byte, bool) {
	for len(b) > 0 {
		var line []byte
		var broke bool
		line, b, broke = nextLine(b)
		col := 0
		for j := 0; j < len(line); {
			c := line[j]
			if qpLiteral[c] && c != '.' && j+1 < len(line) {
				// A run of literal bytes, up to the line's last byte (a
				// space or tab there must be encoded) and the column limit.
				k := j + 1
				for k < len(line)-1 && qpLiteral[line[k]] && k-j < qpLineMax-col {
					k++
				}
				if n := k - j; col+n <= qpLineMax {
					dst = append(dst, line[j:k]...)
					col += n
					j = k
					continue
				}
			}
			literal := qpLiteral[c] && !(c == '.' && col == 0) &&
				!((c == ' ' || c == '\t') && j == len(line)-1)
			n := 3
			if literal {
				n = 1
			}
			if col+n > qpLineMax {
				dst = append(dst, "=\r\n"...)
				col = 0
				continue // look at c again: at the start of a line "." is encoded
			}
			if literal {
				dst = append(dst, c)
			} else {
				dst = append(dst, '=', upperHex[c>>4], upperHex[c&15])
			}
			col += n
			j++
		}
		if broke {
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
