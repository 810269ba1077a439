package mailer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Kind is what the outbox should do with a delivery after a Send.
type Kind int

const (
	Sent   Kind = iota // accepted by the server
	Retry              // 4xx, network or connection trouble: try again later
	Failed             // 5xx or an unsendable message: do not try again
)

func (k Kind) String() string {
	switch k {
	case Sent:
		return "sent"
	case Retry:
		return "retry"
	case Failed:
		return "failed"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Result classifies the error of one Send.
type Result struct {
	Kind       Kind
	Bounce     bool   // 5xx with 5.1.1, 5.1.10, 5.4.1 or 5.4.4: the mailbox is gone
	Code       int    // SMTP reply code, 0 for network errors
	Enhanced   string // "5.1.1" etc. when known
	Reason     string // short, for grouping in reports, e.g. "451 4.7.1 try later", "network: connection reset"; never a secret
	Connection bool   // the trouble is the connection (dial, TLS, login, network), not this message
}

var bounceCodes = map[string]bool{"5.1.1": true, "5.1.10": true, "5.4.1": true, "5.4.4": true}

// Classify maps a Send error to what to do next; nil means Sent.
func Classify(err error) Result {
	if err == nil {
		return Result{Kind: Sent}
	}
	var me *MessageError
	if errors.As(err, &me) {
		return Result{Kind: Failed, Reason: "invalid message: " + me.Field + " " + me.Problem}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Result{Kind: Retry, Reason: "canceled"}
	}
	var de *DialError
	if errors.As(err, &de) {
		r := classifyText(de.Err.Error(), replyCode(de.Err.Error()), "")
		r.Kind, r.Bounce, r.Connection = Retry, false, true
		r.Reason = "connect: " + r.Reason
		return r
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code != 0 {
			return classifyText(se.Error(), code, se.EnhancedStatusCode())
		}
		return Result{Kind: Retry, Connection: true, Reason: "network: " + networkReason(se.Error())}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return classifyText(te.Error(), te.Code, "")
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return Result{Kind: Retry, Connection: true, Reason: "network: " + networkReason(err.Error())}
	}
	// Unknown trouble (a full disk for file:, …): retrying is the safe side.
	return Result{Kind: Retry, Reason: shorten(scrubAddresses(err.Error()))}
}

// classifyText builds the Result for an SMTP reply code found in text.
func classifyText(text string, code int, enhanced string) Result {
	reply := replyText(text, code)
	if enhanced == "" {
		enhanced = enhancedRe.FindString(reply)
	}
	r := Result{Code: code, Enhanced: enhanced, Kind: Retry}
	switch {
	case code >= 500 && code < 600:
		r.Kind = Failed
		r.Bounce = bounceCodes[enhanced]
	case code == 0:
		r.Connection = true
	}
	if reply == "" {
		reply = networkReason(text)
	}
	r.Reason = shorten(reply)
	return r
}

var (
	enhancedRe = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)
	codeRe     = regexp.MustCompile(`(?:^|[\s:])([45]\d\d)[ -]`)
	addrRe     = regexp.MustCompile(`<?[^\s<>,;:"]+@[^\s<>,;:"]+>?`)
)

// replyCode finds an SMTP reply code in an error text, 0 if none.
func replyCode(text string) int {
	m := codeRe.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// replyText cuts the server's reply ("451 4.7.1 try later") out of a go-mail
// error ("sending SMTP RCPT TO command: 451 4.7.1 try later, affected …").
func replyText(text string, code int) string {
	if code == 0 {
		return ""
	}
	c := strconv.Itoa(code)
	i := strings.Index(text, c+" ")
	if i < 0 {
		i = strings.Index(text, c+"-")
	}
	if i < 0 {
		return c
	}
	s := text[i:]
	if j := strings.Index(s, ", affected "); j >= 0 {
		s = s[:j]
	}
	// go-mail's smtp package quotes the reply text: 451 "4.7.1 try later".
	if rest := s[len(c):]; len(rest) > 1 && rest[1] == '"' {
		if q, err := strconv.QuotedPrefix(rest[1:]); err == nil {
			if u, err := strconv.Unquote(q); err == nil {
				s = c + " " + u
			}
		}
	}
	return scrubAddresses(strings.Join(strings.Fields(s), " "))
}

// networkReason names the kind of network failure in a few words.
func networkReason(text string) string {
	t := strings.ToLower(text)
	for _, k := range []struct{ needle, reason string }{
		{"connection reset", "connection reset"},
		{"broken pipe", "connection reset"},
		{"connection refused", "connection refused"},
		{"i/o timeout", "timeout"},
		{"deadline exceeded", "timeout"},
		{"no such host", "unknown host"},
		{"eof", "connection closed by server"},
		{"use of closed network connection", "connection closed"},
		{"not connected", "connection closed"},
		{"starttls", "STARTTLS not offered by server"},
		{"certificate", "TLS certificate not trusted"},
		{"tls", "TLS failure"},
		{"unencrypted", "login refused without TLS"},
	} {
		if strings.Contains(t, k.needle) {
			return k.reason
		}
	}
	return shorten(scrubAddresses(text))
}

// scrubAddresses replaces email addresses so reasons group across recipients.
func scrubAddresses(s string) string { return addrRe.ReplaceAllString(s, "<addr>") }

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 100 {
		return string(r[:100]) + "…"
	}
	return s
}
