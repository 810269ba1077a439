package mailer

import (
	"fmt"
	"mime"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kommune21/digest/internal/emailaddr"
	gomail "github.com/wneessen/go-mail"
)

// Message is one email to one recipient. The caller renders it; this package
// only checks, encodes and transports it.
type Message struct {
	MessageID         string       // without angle brackets, e.g. "r12.d3456@digest.example.org"; deterministic, set by the caller
	From              mail.Address // also the envelope sender unless EnvelopeFrom is set
	EnvelopeFrom      string       // optional envelope sender (SMTP MAIL FROM, the bounce address), e.g. a VERP address; not a header
	ReplyTo           string       // optional address, "a@b" or "Name <a@b>"
	To                mail.Address // the one recipient; the display name may be anything, it is sanitized
	Subject           string       // UTF-8; encoded per RFC 2047 when needed
	Date              time.Time
	Text, HTML        []byte // UTF-8; both: multipart/alternative with text/plain first
	ListID            string // optional, e.g. "Kommune21 Digest <digest.kommune21.de>"
	UnsubscribeURL    string // optional https URL: List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 one-click)
	UnsubscribeMailto string // optional "mailto:…", also listed in List-Unsubscribe
	Bulk              bool   // Precedence: bulk

	// Hold, when set, is called once per Send after the message has been
	// transmitted but before the server is asked to accept it (before
	// the final "." of DATA over SMTP, before the file is written), so
	// the caller can finish something that must be done before this
	// message may be accepted (digest: committing the previous message's
	// record) while the message travels. When Hold returns an error the
	// message is not completed — over SMTP the connection is closed
	// without the final dot, so the server discards it — and Send returns
	// a *HoldError. A failure before Hold was reached leaves it uncalled.
	Hold func() error
}

// HoldError is the error of Message.Hold: the message was not completed.
type HoldError struct {
	MessageID string
	Err       error
}

func (e *HoldError) Error() string {
	return "message " + e.MessageID + " held back and not completed: " + e.Err.Error()
}
func (e *HoldError) Unwrap() error { return e.Err }

// hold calls m.Hold, if any, and wraps its error.
func (m *Message) hold() error {
	if m.Hold == nil {
		return nil
	}
	if err := m.Hold(); err != nil {
		return &HoldError{MessageID: m.MessageID, Err: err}
	}
	return nil
}

// MessageError is a Message that cannot be sent as it is: retrying will not
// help, the caller has to fix the data. Value is never a secret, but may be
// an address.
type MessageError struct {
	MessageID string
	Field     string
	Value     string
	Problem   string
}

func (e *MessageError) Error() string {
	id := e.MessageID
	if id == "" {
		id = "(no Message-ID)"
	}
	if e.Value == "" {
		return fmt.Sprintf("message %s: %s %s", id, e.Field, e.Problem)
	}
	return fmt.Sprintf("message %s: %s %q %s", id, e.Field, e.Value, e.Problem)
}

// dkimHeaders are the headers signed by DKIM. The list must fit on one
// header line: go-mail v0.8.1 folds a longer h= tag inside its value and the
// signature no longer verifies (see LIBRARIES.md).
var dkimHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"}

// checked is a Message whose fields passed the checks, with the header
// values cleaned: what both writers (go-mail's and the 8bit wire writer)
// put in the header.
type checked struct {
	from, to    mail.Address
	envFrom     string // the envelope sender (MAIL FROM); From's address when not set
	replyTo     *mail.Address
	subject     string
	listID      string // formatted List-Id value, "" for none
	unsubscribe string // the https one-click URL, "" for none
	unsubMailto string // "mailto:…", "" for none
}

// check validates m and cleans its header values.
func check(m *Message) (checked, error) {
	var c checked
	bad := func(field, value, problem string) error {
		return &MessageError{MessageID: m.MessageID, Field: field, Value: value, Problem: problem}
	}
	if err := checkMessageID(m.MessageID); err != nil {
		return c, bad("Message-ID", m.MessageID, err.Error())
	}
	var err error
	if c.from, err = cleanAddress(m.From); err != nil {
		return c, bad("From", m.From.Address, err.Error())
	}
	if c.to, err = cleanAddress(m.To); err != nil {
		return c, bad("To", m.To.Address, err.Error())
	}
	c.envFrom = c.from.Address
	if m.EnvelopeFrom != "" {
		ef, err := cleanAddress(mail.Address{Address: m.EnvelopeFrom})
		if err != nil {
			return c, bad("EnvelopeFrom", m.EnvelopeFrom, err.Error())
		}
		c.envFrom = ef.Address
	}
	if m.Date.IsZero() {
		return c, bad("Date", "", "is not set")
	}
	if len(m.Text) == 0 && len(m.HTML) == 0 {
		return c, bad("body", "", "is empty: set Text, HTML or both")
	}
	if !utf8.Valid(m.Text) || !utf8.Valid(m.HTML) {
		return c, bad("body", "", "is not valid UTF-8")
	}
	if m.ReplyTo != "" {
		rt, err := mail.ParseAddress(m.ReplyTo)
		if err != nil {
			return c, bad("Reply-To", m.ReplyTo, "is not an email address")
		}
		if *rt, err = cleanAddress(*rt); err != nil {
			return c, bad("Reply-To", m.ReplyTo, err.Error())
		}
		c.replyTo = rt
	}
	c.subject = cleanText(m.Subject)
	if m.ListID != "" {
		if c.listID, err = listID(m.ListID); err != nil {
			return c, bad("List-Id", m.ListID, err.Error())
		}
	}
	if m.UnsubscribeMailto != "" {
		if err := checkURI(m.UnsubscribeMailto, "mailto"); err != nil {
			return c, bad("UnsubscribeMailto", m.UnsubscribeMailto, err.Error())
		}
		c.unsubMailto = m.UnsubscribeMailto
	}
	if m.UnsubscribeURL != "" {
		if err := checkURI(m.UnsubscribeURL, "https"); err != nil {
			return c, bad("UnsubscribeURL", m.UnsubscribeURL, err.Error())
		}
		c.unsubscribe = m.UnsubscribeURL
	}
	return c, nil
}

// build turns m into a fresh go-mail Msg. It never reuses a Msg: Msg.Reset
// keeps preformatted headers such as List-Unsubscribe of the previous
// recipient. signer may be nil.
func build(m *Message, signer *gomail.DKIMSigner) (*gomail.Msg, error) {
	c, err := check(m)
	if err != nil {
		return nil, err
	}
	opts := []gomail.MsgOption{gomail.WithNoDefaultUserAgent()}
	if signer != nil {
		opts = append(opts, gomail.WithDKIM(signer))
	}
	msg := gomail.NewMsg(opts...)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	msg.FromMailAddress(&c.from)
	if m.EnvelopeFrom != "" {
		if err := msg.EnvelopeFrom(c.envFrom); err != nil {
			return nil, &MessageError{MessageID: m.MessageID, Field: "EnvelopeFrom", Value: m.EnvelopeFrom, Problem: "is not an email address"}
		}
	}
	msg.AddToMailAddress(&c.to)
	if c.replyTo != nil {
		msg.ReplyToMailAddress(c.replyTo)
	}
	msg.Subject(c.subject)
	if c.listID != "" {
		msg.SetGenHeaderPreformatted("List-Id", c.listID)
	}
	switch {
	case c.unsubscribe != "":
		var extra []string
		if c.unsubMailto != "" {
			extra = append(extra, c.unsubMailto)
		}
		if err := msg.SetListUnsubscribeOneClick(c.unsubscribe, extra...); err != nil {
			return nil, &MessageError{MessageID: m.MessageID, Field: "UnsubscribeURL", Value: m.UnsubscribeURL, Problem: "is not an https URL"}
		}
	case c.unsubMailto != "":
		// One-click (List-Unsubscribe-Post) needs an https URL; a mailto alone
		// is a plain RFC 2369 List-Unsubscribe.
		msg.SetListUnsubscribe(c.unsubMailto)
	}
	if m.Bulk {
		msg.SetBulk()
	}

	switch {
	case len(m.Text) > 0 && len(m.HTML) > 0:
		msg.SetBodyString(gomail.TypeTextPlain, string(m.Text))
		msg.AddAlternativeString(gomail.TypeTextHTML, string(m.HTML))
	case len(m.Text) > 0:
		msg.SetBodyString(gomail.TypeTextPlain, string(m.Text))
	default:
		msg.SetBodyString(gomail.TypeTextHTML, string(m.HTML))
	}
	return msg, nil
}

func checkMessageID(id string) error {
	if id == "" {
		return fmt.Errorf("is empty")
	}
	if len(id) > 250 {
		return fmt.Errorf("is longer than 250 characters")
	}
	for _, r := range id {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == '"' || r == '\\' {
			return fmt.Errorf("must be printable ASCII without spaces, quotes or angle brackets (e.g. r12.d3456@digest.example.org)")
		}
	}
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") {
		return fmt.Errorf("must look like left@domain")
	}
	return nil
}

// cleanAddress checks the address itself strictly and makes the display name
// harmless: control characters (CR, LF, TAB, …) become spaces. go-mail
// writes the name RFC 2047-encoded or quoted via net/mail, so quotes,
// backslashes and umlauts are fine.
func cleanAddress(a mail.Address) (mail.Address, error) {
	if a.Address == "" {
		return a, fmt.Errorf("is empty")
	}
	for _, r := range a.Address {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == ',' || r == ';' {
			return a, fmt.Errorf("contains spaces, control characters or <>,; — not an email address")
		}
	}
	p, err := mail.ParseAddress("<" + a.Address + ">")
	if err != nil || p.Address != a.Address {
		return a, fmt.Errorf("is not an email address")
	}
	// The domain goes out as A-labels ("x@xn--mnchen-3ya.de"): every server
	// takes those, in RCPT TO and in the header.
	return mail.Address{Name: cleanText(a.Name), Address: emailaddr.ASCII(a.Address)}, nil
}

// cleanText turns every control or line-separator character into a space
// and trims, so free text can never start a new header line.
func cleanText(s string) string {
	if !strings.ContainsFunc(s, isUnsafe) && strings.TrimSpace(s) == s {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if isUnsafe(r) {
			return ' '
		}
		return r
	}, s))
}

func isUnsafe(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// checkURI accepts an absolute URI of the given scheme that can sit between
// angle brackets in List-Unsubscribe: ASCII, no spaces, no <>.
func checkURI(s, scheme string) error {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || r == '<' || r == '>' {
			return fmt.Errorf("must be ASCII without spaces or angle brackets (percent-encode the rest)")
		}
	}
	u, err := url.Parse(s)
	if err != nil || !strings.EqualFold(u.Scheme, scheme) {
		return fmt.Errorf("is not a %s: URI", scheme)
	}
	if scheme == "https" && u.Host == "" {
		return fmt.Errorf("has no host")
	}
	if scheme == "mailto" && u.Opaque == "" {
		return fmt.Errorf("has no address")
	}
	return nil
}

// listID formats "Phrase <list.id>" (RFC 2919): the id must be a dot-atom,
// the phrase is sanitized and RFC 2047-encoded when it is not ASCII.
func listID(s string) (string, error) {
	s = cleanText(s)
	phrase, id := "", s
	if i := strings.LastIndex(s, "<"); i >= 0 {
		if !strings.HasSuffix(s, ">") {
			return "", fmt.Errorf("must look like \"Name <list.example.org>\"")
		}
		phrase, id = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
	}
	if id == "" || !strings.Contains(id, ".") {
		return "", fmt.Errorf("needs an id with a dot, e.g. \"Name <digest.example.org>\"")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_+!#$%&'*/=?^`{|}~", r)) {
			return "", fmt.Errorf("id %q may only contain letters, digits, dots and dashes", id)
		}
	}
	if phrase == "" {
		return "<" + id + ">", nil
	}
	return mime.QEncoding.Encode("UTF-8", quotePhrase(phrase)) + " <" + id + ">", nil
}

// quotePhrase quotes an ASCII phrase that contains specials; a non-ASCII one
// is left to the RFC 2047 encoder, which needs no quoting.
func quotePhrase(p string) string {
	for _, r := range p {
		if r >= utf8.RuneSelf {
			return p
		}
	}
	if !strings.ContainsAny(p, "()<>[]:;@\\,.\"") {
		return p
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
}
