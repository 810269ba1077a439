package inbound

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// decode undoes the Content-Transfer-Encoding of a part body. A broken
// encoding gives what could be decoded.
func decode(h textproto.MIMEHeader, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, _ := base64.StdEncoding.Decode(out, clean)
		if n == 0 {
			n, _ = base64.RawStdEncoding.Decode(out, bytes.TrimRight(clean, "="))
		}
		return out[:n]
	case "quoted-printable":
		out, _ := io.ReadAll(io.LimitReader(quotedprintable.NewReader(bytes.NewReader(body)), MaxRead))
		return out
	}
	return body
}

// decodeText turns text in charset into UTF-8; unknown charsets and invalid
// bytes are replaced, never refused.
func decodeText(b []byte, charset string) string {
	cs := strings.ToLower(strings.TrimSpace(charset))
	if cs != "" && cs != "utf-8" && cs != "us-ascii" && cs != "utf8" {
		if enc, err := htmlindex.Get(cs); err == nil {
			if out, err := io.ReadAll(io.LimitReader(enc.NewDecoder().Reader(bytes.NewReader(b)), MaxText)); err == nil {
				b = out
			}
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

var tagRE = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)

func stripTags(s string) string {
	s = tagRE.ReplaceAllString(s, " ")
	return strings.NewReplacer("&nbsp;", " ", "&lt;", "<", "&gt;", ">", "&amp;", "&", "&quot;", `"`).Replace(s)
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(strings.ToLower(charset))
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}}

// decodeWords decodes RFC 2047 encoded words; undecodable text stays as is.
func decodeWords(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	return clean(short(s, maxField))
}

// addresses returns the bare addresses of an address-list header value,
// lower-cased. An unparsable list falls back to anything that looks like
// local@domain in it.
func addresses(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" || v == "<>" {
		return nil
	}
	var out []string
	if list, err := (&mail.AddressParser{WordDecoder: wordDecoder}).ParseList(v); err == nil {
		for _, a := range list {
			out = appendUnique(out, normAddr(a.Address))
		}
		return out
	}
	for _, m := range addrRE.FindAllString(v, 10) {
		out = appendUnique(out, normAddr(m))
	}
	return out
}

var addrRE = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@localhost`)

func normAddr(a string) string {
	a = strings.Trim(strings.TrimSpace(a), "<>")
	return clean(short(strings.ToLower(a), 254))
}

// msgID returns the first Message-ID in v without angle brackets.
func msgID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	return clean(short(strings.TrimSpace(v), 250))
}

// typedAddress reads "rfc822; user@host" (RFC 3464 address-type;address).
func typedAddress(v string) string {
	v = typedValue(v)
	if v == "" {
		return ""
	}
	if a := addresses(v); len(a) > 0 {
		return a[0]
	}
	return ""
}

// typedValue strips the "type;" prefix of a DSN field.
func typedValue(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 && i < 20 && !strings.ContainsAny(v[:i], " @<") {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

func firstWord(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return ""
	}
	return short(f[0], 20)
}

var statusRE = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)
var replyRE = regexp.MustCompile(`\b([45])[0-9][0-9][ -]`)

// statusCode finds the first enhanced status code in v.
func statusCode(v string) string {
	return statusRE.FindString(v)
}

// clean makes s safe to store and print: valid UTF-8, control characters
// turned into spaces, runs of spaces collapsed.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// short cuts s to at most n bytes on a rune boundary.
func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func limit(b []byte, n int) []byte {
	if n <= 0 {
		return nil
	}
	if len(b) > n {
		return b[:n]
	}
	return b
}

func appendUnique(list []string, vals ...string) []string {
	for _, v := range vals {
		if v == "" || len(list) >= MaxRecipients {
			continue
		}
		dup := false
		for _, x := range list {
			if x == v {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, v)
		}
	}
	return list
}

// autoSubjects start the subjects of out-of-office and other automatic
// answers (German and English, the forms Outlook, Exchange, Gmail, GMX and
// web.de write).
var autoSubjects = []string{
	"abwesenheitsnotiz", "automatische antwort", "autom. antwort", "abwesend", "abwesenheit",
	"out of office", "out-of-office", "autoreply", "auto-reply", "automatic reply", "auto:", "automatische nachricht",
	"urlaubsmeldung", "ich bin nicht im büro", "ich bin derzeit nicht", "vacation", "away from",
}

func isAutoReply(h textproto.MIMEHeader, subject string) bool {
	as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	if strings.HasPrefix(as, "auto-replied") {
		return true
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || h.Get("X-Auto-Response-Suppress") != "" && h.Get("Auto-Submitted") != "" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "auto_reply", "auto-reply":
		return true
	}
	s := strings.ToLower(stripReplyPrefixes(subject))
	for _, p := range autoSubjects {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// bounceSubjects start the subjects of failure notices that are not DSNs.
var bounceSubjects = []string{
	"mail delivery failed", "undelivered mail", "undeliverable", "unzustellbar", "delivery status notification",
	"returned mail", "failure notice", "delivery failure", "mail delivery failure", "nicht zustellbar",
	"warning: message", "delivery delayed", "delayed mail", "zustellung fehlgeschlagen", "fehler bei der zustellung",
	"mail system error", "non remis", "delivery notification",
}

func isBounceNotice(h textproto.MIMEHeader, m *Mail) bool {
	if h.Get("X-Failed-Recipients") != "" {
		return true
	}
	from := strings.ToLower(m.From)
	daemon := strings.HasPrefix(from, "mailer-daemon@") || strings.HasPrefix(from, "postmaster@") || strings.HasPrefix(from, "mail-daemon@")
	rp := strings.TrimSpace(h.Get("Return-Path"))
	s := strings.ToLower(m.Subject)
	for _, p := range bounceSubjects {
		if strings.HasPrefix(s, p) {
			return daemon || rp == "<>" || strings.HasPrefix(strings.ToLower(h.Get("Auto-Submitted")), "auto-generated")
		}
	}
	return false
}

// originalMarkers are the lines after which Exim, qmail, Postfix (without
// DSN) and others append the original message.
var originalMarkers = []string{
	"------ This is a copy of the message, including all the headers. ------",
	"------ This is a copy of the message's headers. ------",
	"--- Below this line is a copy of the message.",
	"--- Below this line is the original message",
	"----- Original message -----",
	"------ Original message ------",
	"Original message headers:",
	"----- Transcript of session follows -----",
	"----- Die Originalnachricht -----",
}

// plainBounce reads a failure notice in plain text: the failed addresses
// (X-Failed-Recipients, else the indented addresses of Exim's list), the
// status code nearest to them, and the appended original message.
func (p *parser) plainBounce(h textproto.MIMEHeader) {
	text := p.text.String()
	var addrs []string
	for _, v := range h.Values("X-Failed-Recipients") {
		addrs = appendUnique(addrs, addresses(v)...)
	}
	explanation := text
	for _, mk := range originalMarkers {
		if i := strings.Index(text, mk); i >= 0 {
			explanation = text[:i]
			if ih, _, err := readHeader([]byte(strings.TrimLeft(text[i+len(mk):], "\r\n "))); err == nil {
				p.original(ih)
			}
			break
		}
	}
	if p.m.Original.MessageID == "" {
		// Some notices append the message without any marker: take the
		// first header block in the text that has a Message-ID.
		if i := strings.Index(strings.ToLower(text), "\nmessage-id:"); i >= 0 {
			start := strings.LastIndex(text[:i], "\n\n")
			if ih, _, err := readHeader([]byte(strings.TrimLeft(text[start+1:], "\n"))); err == nil {
				p.original(ih)
			}
		}
	}
	if len(addrs) == 0 {
		for _, line := range strings.Split(explanation, "\n") {
			t := strings.TrimSpace(line)
			if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") || strings.HasPrefix(t, "<") {
				if a := addrRE.FindString(t); a != "" && (t == a || strings.Trim(t, "<>:") == a) {
					addrs = appendUnique(addrs, normAddr(a))
				}
			}
		}
	}
	lower := strings.ToLower(explanation)
	status := statusCode(explanation)
	sev := None
	switch {
	case strings.HasPrefix(status, "5."):
		sev = Hard
	case strings.HasPrefix(status, "4."):
		sev = Soft
	case strings.Contains(lower, "permanent error") || strings.Contains(lower, "permanent fatal") || strings.Contains(lower, "could not be delivered") ||
		strings.Contains(lower, "konnte nicht zugestellt werden") || strings.Contains(lower, "does not exist"):
		sev = Hard
		if m := replyRE.FindStringSubmatch(explanation); m != nil && m[1] == "4" {
			sev = Soft
		}
	case strings.Contains(lower, "delayed") || strings.Contains(lower, "not yet been delivered") || strings.Contains(lower, "temporary") ||
		strings.Contains(lower, "verzögert") || strings.Contains(lower, "noch nicht zugestellt"):
		sev = Soft
	}
	if strings.Contains(lower, "not yet been delivered") || strings.HasPrefix(strings.ToLower(p.m.Subject), "warning: message") {
		sev = Soft // Exim's delay warning quotes the last temporary error
	}
	action := "failed"
	if sev == Soft {
		action = "delayed"
	}
	diag := ""
	if i := replyRE.FindStringIndex(explanation); i != nil {
		line := explanation[i[0]:]
		if j := strings.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		diag = clean(short(line, maxField))
	}
	if len(addrs) == 0 {
		addrs = p.m.Original.To
	}
	for _, a := range addrs {
		p.addRecipient(Recipient{Address: a, Action: action, Status: status, Diagnostic: diag, Severity: sev})
	}
}

var replyPrefixRE = regexp.MustCompile(`(?i)^\s*((re|aw|wg|fw|fwd|antw|sv|vs)\s*(\[\d+\])?\s*:\s*)+`)

func stripReplyPrefixes(s string) string {
	return strings.TrimSpace(replyPrefixRE.ReplaceAllString(s, ""))
}

// isUnsubscribe reports a subject that asks to leave the list: "Abmelden"
// (the List-Unsubscribe mailto's subject, possibly followed by a token),
// "unsubscribe", "Austragen".
func isUnsubscribe(subject string) bool {
	s := strings.ToLower(stripReplyPrefixes(subject))
	for _, w := range []string{"abmelden", "unsubscribe", "austragen", "abbestellen"} {
		if s == w || strings.HasPrefix(s, w+" ") || strings.HasPrefix(s, w+":") {
			return true
		}
	}
	return false
}

// tokenRE matches link tokens of package subscribers: "KEYID.BASE64URL".
var tokenRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.=-])([A-Za-z0-9_-]{1,16}\.[A-Za-z0-9_-]{27,60})(?:$|[^A-Za-z0-9_.-])`)

func findTokens(s string, have []string) []string {
	for _, m := range tokenRE.FindAllStringSubmatch(s, 10) {
		if len(have) >= 5 {
			break
		}
		have = appendUnique(have, m[1])
	}
	return have
}
