package inbound

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Limits that keep a hostile mail cheap.
const (
	MaxRead       = 1 << 20   // bytes of a mail that are read (the report parts come first)
	MaxText       = 256 << 10 // bytes of decoded text kept for searching
	MaxParts      = 64        // MIME parts walked
	MaxDepth      = 6         // MIME nesting
	MaxRecipients = 50        // recipients kept from one report
	maxField      = 1000      // characters kept of one value
)

// Kind is what a mail is.
type Kind string

const (
	KindBounce      Kind = "bounce"
	KindComplaint   Kind = "complaint"
	KindUnsubscribe Kind = "unsubscribe"
	KindAutoReply   Kind = "auto-reply"
	KindOther       Kind = "other"
)

// Severity of a bounce for one recipient.
type Severity string

const (
	Hard Severity = "hard" // permanent: the address does not work
	Soft Severity = "soft" // temporary: full mailbox, greylisting, delay
	None Severity = ""     // not a failure (delivered, relayed) or unknown
)

// Mail is what Parse found in one mail.
type Mail struct {
	Kind      Kind
	MessageID string    // the mail's own Message-ID, without brackets
	From      string    // address in From, as written
	Subject   string    // decoded
	Date      time.Time // zero when missing or unparsable
	// Addressed are the addresses the mail was delivered to (To, Cc,
	// Delivered-To, X-Original-To, Envelope-To): for a bounce, the envelope
	// sender of the original message, so a VERP return path shows here.
	Addressed []string

	Recipients []Recipient // bounce: one per failed (or delayed) recipient
	Original   Original    // the returned or reported message, as far as it came back
	Feedback   string      // complaint: Feedback-Type (abuse, fraud, …)
	Tokens     []string    // link tokens found in subject or text (unsubscribe mails)

	Truncated bool   // the mail was longer than MaxRead
	Problem   string // what could not be read, when something could not
}

// Recipient is one recipient of a delivery report.
type Recipient struct {
	Address    string // Final-Recipient, or Original-Recipient, or the failed address
	Action     string // failed, delayed, delivered, relayed, expanded (lower case)
	Status     string // enhanced status code, e.g. 5.1.1
	Diagnostic string // Diagnostic-Code or the SMTP answer
	Severity   Severity
}

// Original is what a report says about the message it is about.
type Original struct {
	MessageID  string   // without brackets
	To         []string // To of the original message, or Original-Rcpt-To
	ReturnPath string   // Return-Path of the original, or Original-Mail-From
	Subject    string
}

// Severe returns the most severe recipient severity.
func (m *Mail) Severe() Severity {
	s := None
	for _, r := range m.Recipients {
		if r.Severity == Hard {
			return Hard
		}
		if r.Severity == Soft {
			s = Soft
		}
	}
	return s
}

// ParseBytes parses a whole mail held in memory.
func ParseBytes(b []byte) *Mail {
	m, _ := Parse(bytes.NewReader(b))
	return m
}

// Parse reads one mail (at most MaxRead bytes of it) and classifies it. The
// error is only a read error of r; unparsable content gives a KindOther Mail
// with a Problem.
func Parse(r io.Reader) (*Mail, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxRead+1))
	if err != nil {
		return &Mail{Kind: KindOther, Problem: "read: " + clean(err.Error())}, err
	}
	p := &parser{m: &Mail{Kind: KindOther}}
	if len(raw) > MaxRead {
		raw, p.m.Truncated = raw[:MaxRead], true
	}
	p.parse(raw)
	return p.m, nil
}

type parser struct {
	m        *Mail
	parts    int
	text     bytes.Buffer // decoded text/plain (and stripped text/html) parts
	dsn      bool         // a delivery-status part was seen
	arf      bool         // a feedback-report part was seen
	problems []string
}

func (p *parser) problem(format string, args ...any) {
	if len(p.problems) < 5 {
		p.problems = append(p.problems, fmt.Sprintf(format, args...))
	}
}

func (p *parser) parse(raw []byte) {
	m := p.m
	raw = skipMboxLine(raw)
	h, body, err := readHeader(raw)
	if err != nil {
		m.Problem = "header: " + clean(err.Error())
		return
	}
	m.MessageID = msgID(h.Get("Message-Id"))
	m.Subject = decodeWords(h.Get("Subject"))
	if a := addresses(h.Get("From")); len(a) > 0 {
		m.From = a[0]
	}
	if d, err := mail.ParseDate(h.Get("Date")); err == nil {
		m.Date = d
	}
	for _, k := range []string{"To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"} {
		for _, v := range h.Values(k) {
			m.Addressed = appendUnique(m.Addressed, addresses(v)...)
		}
	}

	p.walk(h, body, 0)

	switch {
	case p.arf:
		m.Kind = KindComplaint
	case p.dsn:
		m.Kind = KindBounce
	case isBounceNotice(h, m):
		// Before auto-replies: Exim and Postfix mark their notices
		// "Auto-Submitted: auto-replied".
		m.Kind = KindBounce
		p.plainBounce(h)
	case isAutoReply(h, m.Subject):
		m.Kind = KindAutoReply
	case isUnsubscribe(m.Subject):
		m.Kind = KindUnsubscribe
	}
	// Only the subject: the List-Unsubscribe mailto puts the token there. A
	// quoted digest in the text carries the links of whoever it was sent to.
	m.Tokens = findTokens(m.Subject, nil)
	if len(p.problems) > 0 && m.Problem == "" {
		m.Problem = clean(strings.Join(p.problems, "; "))
	}
}

// skipMboxLine drops an mbox "From " separator line the exporter left in.
func skipMboxLine(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

// readHeader reads a header block leniently: a line that is not a header
// field ends it (broken mails often lack the blank line).
func readHeader(raw []byte) (textproto.MIMEHeader, []byte, error) {
	h := textproto.MIMEHeader{}
	rest := raw
	var key, val string
	flush := func() {
		if key != "" && len(h) < 500 {
			h[textproto.CanonicalMIMEHeaderKey(key)] = append(h[textproto.CanonicalMIMEHeaderKey(key)], strings.TrimSpace(val))
		}
		key, val = "", ""
	}
	n := 0
	for len(rest) > 0 {
		line := rest
		next := []byte(nil)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i], rest[i+1:]
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			rest = next
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if key != "" && len(val) < 16<<10 {
				val += " " + string(bytes.TrimSpace(line))
			}
			rest = next
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 || bytes.ContainsAny(line[:i], " \t") {
			// Not a header line: the body starts here.
			break
		}
		flush()
		key, val = string(line[:i]), string(line[i+1:])
		n++
		rest = next
	}
	flush()
	if n == 0 {
		return nil, nil, errors.New("no header fields")
	}
	return h, rest, nil
}

// walk visits a MIME entity with header h and (undecoded) body.
func (p *parser) walk(h textproto.MIMEHeader, body []byte, depth int) {
	p.parts++
	if p.parts > MaxParts {
		if p.parts == MaxParts+1 {
			p.problem("more than %d MIME parts; the rest is ignored", MaxParts)
		}
		return
	}
	ct := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		if err != nil && ct != "" {
			p.problem("Content-Type %q: %v", short(ct, 80), err)
			// "multipart/report; boundary=..." with a broken parameter: take the type.
			mt, params = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0])), map[string]string{}
			if b := looseBoundary(ct); b != "" {
				params["boundary"] = b
			}
			if l := strings.ToLower(ct); strings.Contains(l, "report-type=delivery-status") || strings.Contains(l, `report-type="delivery-status"`) {
				params["report-type"] = "delivery-status"
			} else if strings.Contains(l, "report-type=feedback-report") || strings.Contains(l, `report-type="feedback-report"`) {
				params["report-type"] = "feedback-report"
			}
		} else {
			mt = "text/plain"
		}
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if depth >= MaxDepth {
			p.problem("MIME nested deeper than %d", MaxDepth)
			return
		}
		if mt == "multipart/report" {
			switch strings.ToLower(params["report-type"]) {
			case "delivery-status", "global-delivery-status":
				p.dsn = true
			case "feedback-report":
				p.arf = true
			}
		}
		p.multipart(params["boundary"], body, depth)
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		p.dsn = true
		p.deliveryStatus(decode(h, body))
	case mt == "message/feedback-report":
		p.arf = true
		p.feedbackReport(decode(h, body))
	case mt == "message/rfc822" || mt == "message/global" || mt == "text/rfc822-headers" || mt == "message/rfc822-headers" || mt == "message/global-headers":
		inner := decode(h, body)
		ih, _, err := readHeader(inner)
		if err != nil {
			p.problem("returned message: %v", err)
			return
		}
		p.original(ih)
	case mt == "text/plain" || mt == "text/html":
		txt := decodeText(decode(h, body), params["charset"])
		if mt == "text/html" {
			txt = stripTags(txt)
		}
		if room := MaxText - p.text.Len(); room > 0 {
			if len(txt) > room {
				txt = txt[:room]
			}
			p.text.WriteString(txt)
			p.text.WriteByte('\n')
		}
	}
}

func (p *parser) multipart(boundary string, body []byte, depth int) {
	if boundary == "" {
		p.problem("multipart without boundary")
		p.text.Write(limit(body, MaxText-p.text.Len()))
		return
	}
	delim := []byte("--" + boundary)
	// Split by hand rather than with mime/multipart: it stops at the first
	// malformed part, and a truncated mail has no closing boundary.
	rest := body
	i := bytes.Index(rest, delim)
	if i < 0 {
		p.problem("boundary %q not found", short(boundary, 70))
		return
	}
	rest = rest[i+len(delim):]
	for len(rest) > 0 {
		if bytes.HasPrefix(rest, []byte("--")) {
			return // closing boundary
		}
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			rest = rest[j+1:]
		} else {
			return
		}
		end := bytes.Index(rest, delim)
		part := rest
		if end >= 0 {
			part, rest = rest[:end], rest[end+len(delim):]
		} else {
			rest = nil
		}
		part = bytes.TrimSuffix(bytes.TrimSuffix(part, []byte("\n")), []byte("\r"))
		ph, pbody, err := readHeader(part)
		if err != nil {
			// A part without header is text/plain (RFC 2046).
			ph, pbody = textproto.MIMEHeader{}, bytes.TrimLeft(part, "\r\n")
		}
		p.walk(ph, pbody, depth+1)
		if p.parts > MaxParts {
			return
		}
	}
}

// looseBoundary digs a boundary out of a Content-Type that mime cannot parse.
func looseBoundary(ct string) string {
	i := strings.Index(strings.ToLower(ct), "boundary=")
	if i < 0 {
		return ""
	}
	b := ct[i+len("boundary="):]
	if strings.HasPrefix(b, `"`) {
		b = b[1:]
		if j := strings.IndexByte(b, '"'); j >= 0 {
			return b[:j]
		}
	}
	if j := strings.IndexAny(b, "; \t"); j >= 0 {
		b = b[:j]
	}
	return b
}

// fieldBlocks splits a delivery-status or feedback-report body into blocks of
// fields separated by blank lines.
func fieldBlocks(b []byte) []textproto.MIMEHeader {
	var blocks []textproto.MIMEHeader
	for _, chunk := range splitBlocks(b) {
		if h, _, err := readHeader(chunk); err == nil {
			blocks = append(blocks, h)
		}
	}
	return blocks
}

func splitBlocks(b []byte) [][]byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	var out [][]byte
	for _, c := range bytes.Split(b, []byte("\n\n")) {
		if c = bytes.Trim(c, "\n"); len(c) > 0 {
			out = append(out, c)
		}
	}
	return out
}

func (p *parser) deliveryStatus(b []byte) {
	for _, f := range fieldBlocks(b) {
		addr := typedAddress(f.Get("Final-Recipient"))
		if addr == "" {
			addr = typedAddress(f.Get("Original-Recipient"))
		}
		if addr == "" && f.Get("Action") == "" && f.Get("Status") == "" {
			continue // the per-message block (Reporting-MTA, Arrival-Date)
		}
		r := Recipient{
			Address:    addr,
			Action:     strings.ToLower(clean(firstWord(f.Get("Action")))),
			Status:     statusCode(f.Get("Status")),
			Diagnostic: clean(short(typedValue(f.Get("Diagnostic-Code")), maxField)),
		}
		if r.Status == "" {
			r.Status = statusCode(r.Diagnostic)
		}
		r.Severity = severity(r.Action, r.Status)
		p.addRecipient(r)
	}
}

func (p *parser) addRecipient(r Recipient) {
	if len(p.m.Recipients) < MaxRecipients {
		p.m.Recipients = append(p.m.Recipients, r)
	}
}

func (p *parser) feedbackReport(b []byte) {
	blocks := fieldBlocks(b)
	if len(blocks) == 0 {
		return
	}
	f := blocks[0]
	p.m.Feedback = strings.ToLower(clean(short(f.Get("Feedback-Type"), 40)))
	if a := addresses(f.Get("Original-Mail-From")); len(a) > 0 && p.m.Original.ReturnPath == "" {
		p.m.Original.ReturnPath = a[0]
	}
	for _, v := range f.Values("Original-Rcpt-To") {
		p.m.Original.To = appendUnique(p.m.Original.To, addresses(v)...)
	}
	for _, v := range f.Values("Removal-Recipient") {
		p.m.Original.To = appendUnique(p.m.Original.To, addresses(v)...)
	}
}

// original takes the headers of a returned or reported message. The first
// one wins (a bounce of a bounce carries the innermost one later).
func (p *parser) original(h textproto.MIMEHeader) {
	o := &p.m.Original
	if o.MessageID == "" {
		o.MessageID = msgID(h.Get("Message-Id"))
	}
	if o.Subject == "" {
		o.Subject = decodeWords(h.Get("Subject"))
	}
	if o.ReturnPath == "" {
		if a := addresses(h.Get("Return-Path")); len(a) > 0 {
			o.ReturnPath = a[0]
		}
	}
	if len(o.To) == 0 {
		for _, v := range h.Values("To") {
			o.To = appendUnique(o.To, addresses(v)...)
		}
	}
}

func severity(action, status string) Severity {
	switch action {
	case "delivered", "relayed", "expanded":
		return None
	case "failed":
		// Also with a 4.x.x status: the relay has given up retrying.
		return Hard
	case "delayed":
		return Soft
	}
	switch {
	case strings.HasPrefix(status, "5."):
		return Hard
	case strings.HasPrefix(status, "4."):
		return Soft
	}
	return None
}
