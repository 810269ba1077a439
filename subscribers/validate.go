package subscribers

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kommune21/digest/internal/emailaddr"
	"github.com/kommune21/digest/taxonomy"
	"golang.org/x/net/idna"
)

// Limits on what a subscriber record may hold.
const (
	MaxEmailLength = 254 // RFC 5321 path limit, in bytes
	MaxLocalLength = 64  // RFC 5321 local-part limit, in bytes
	MaxNameLength  = 200 // characters
)

// FieldError is one invalid value: which field, the value as given, and what to do.
type FieldError struct {
	Field string // "email", "name", "regions", "topics", "cadence"
	Value string
	Msg   string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("field %q value %s: %s", e.Field, quoteValue(e.Value), e.Msg)
}

// quoteValue quotes a value for an error message, shortening very long ones
// so that a 10 KB cell does not flood the terminal.
func quoteValue(v string) string {
	const max = 80
	if utf8.RuneCountInString(v) <= max {
		return fmt.Sprintf("%q", v)
	}
	r := []rune(v)
	return fmt.Sprintf("%q… (%d bytes)", string(r[:max]), len(v))
}

// ValidateEmail checks an address and returns it normalised: trimmed, the
// local part in Unicode NFC (case kept), the domain mapped by IDNA UTS #46 to
// its Unicode form (lower case; "example．org" with a full-width dot becomes
// "example.org", "xn--mnchen-3ya.de" becomes "münchen.de"). It accepts only a
// bare address (no display name, comment or angle brackets), with a domain
// that has a dot; internationalised domains and UTF-8 local parts are
// accepted. This is the one place addresses are validated; identity is
// EmailKey, and mail goes to the A-label form (see internal/emailaddr).
func ValidateEmail(email string) (string, error) {
	bad := func(msg string) (string, error) { return "", &FieldError{Field: "email", Value: email, Msg: msg} }
	e := strings.TrimSpace(email)
	switch {
	case e == "":
		return bad("empty: give an address such as name@example.org")
	case !utf8.ValidString(e):
		return bad("not valid UTF-8: save the input as UTF-8")
	case len(e) > MaxEmailLength:
		return bad(fmt.Sprintf("%d bytes long: an address has at most %d", len(e), MaxEmailLength))
	case strings.IndexFunc(e, isControlOrSpace) >= 0:
		return bad("contains a space or control character: give only the bare address, e.g. name@example.org, without a name or comment")
	}
	addr, err := mail.ParseAddress(e)
	if err != nil {
		return bad(fmt.Sprintf("not an email address (%s): give an address such as name@example.org", strings.TrimPrefix(err.Error(), "mail: ")))
	}
	if addr.Name != "" || addr.Address != e {
		return bad("give only the bare address, e.g. name@example.org, without a name, comment, quotes or <>")
	}
	at := strings.LastIndexByte(e, '@')
	local, domain := e[:at], e[at+1:]
	if len(local) > MaxLocalLength {
		return bad(fmt.Sprintf("the part before @ is %d bytes long: at most %d are allowed", len(local), MaxLocalLength))
	}
	if strings.HasPrefix(domain, "[") {
		return bad("an IP address as domain is not accepted: give an address with a domain name")
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return bad(fmt.Sprintf("the domain %q is not a valid domain name: check for typos", domain))
	}
	if !strings.Contains(strings.Trim(ascii, "."), ".") || strings.HasSuffix(ascii, ".") {
		return bad(fmt.Sprintf("the domain %q has no dot: give a full domain such as example.org", domain))
	}
	// One mailbox, one identity: NFC local part, UTS #46 domain (see EmailKey).
	n, err := emailaddr.Normalize(e)
	if err != nil {
		return bad(fmt.Sprintf("the domain %q is not a valid domain name: check for typos", domain))
	}
	if a := emailaddr.ASCII(n); len(a) > MaxEmailLength {
		return bad(fmt.Sprintf("%d bytes long with the domain in ASCII (%s): an address has at most %d", len(a), a, MaxEmailLength))
	}
	return n, nil
}

func isControlOrSpace(r rune) bool {
	return unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029'
}

// ValidateName checks a display name and returns it trimmed. It rejects control
// characters (CR, LF, NUL, tab …), which could break headers or tables, and
// names longer than MaxNameLength characters.
func ValidateName(name string) (string, error) {
	bad := func(msg string) (string, error) { return "", &FieldError{Field: "name", Value: name, Msg: msg} }
	n := strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(n):
		return bad("not valid UTF-8: save the input as UTF-8")
	case strings.IndexFunc(n, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) >= 0:
		return bad("contains a control character (line break, tab, NUL …): give the name on one line without them")
	}
	if c := utf8.RuneCountInString(n); c > MaxNameLength {
		return bad(fmt.Sprintf("%d characters long: a name has at most %d", c, MaxNameLength))
	}
	return n, nil
}

// ValidateRegions normalises region codes ("de-by" → "DE-BY") in taxonomy
// order; empty values are ignored and an empty result means all regions.
// Every unknown code is reported with the valid ones.
func ValidateRegions(set *taxonomy.Set, codes []string) ([]string, []*FieldError) {
	var errs []*FieldError
	for _, c := range codes {
		if _, ok := set.Region(strings.ToUpper(strings.TrimSpace(c))); !ok && strings.TrimSpace(c) != "" {
			valid := make([]string, len(set.Regions))
			for i, r := range set.Regions {
				valid[i] = r.Code
			}
			errs = append(errs, &FieldError{Field: "regions", Value: c,
				Msg: "unknown region; use one of " + strings.Join(valid, ", ") + " (leave empty for all regions)"})
		}
	}
	if errs != nil {
		return nil, errs
	}
	out, err := set.RegionCodes(codes)
	if err != nil { // cannot happen after the check above; keep the message anyway
		return nil, []*FieldError{{Field: "regions", Value: strings.Join(codes, ";"), Msg: err.Error()}}
	}
	return out, nil
}

// ValidateTopics normalises topic slugs in taxonomy order; empty values are
// ignored and an empty result means all topics. Every unknown slug is reported
// with the valid ones.
func ValidateTopics(set *taxonomy.Set, slugs []string) ([]string, []*FieldError) {
	var errs []*FieldError
	for _, s := range slugs {
		if _, ok := set.Topic(strings.ToLower(strings.TrimSpace(s))); !ok && strings.TrimSpace(s) != "" {
			valid := make([]string, len(set.Topics))
			for i, t := range set.Topics {
				valid[i] = t.Slug
			}
			slices.Sort(valid)
			errs = append(errs, &FieldError{Field: "topics", Value: s,
				Msg: "unknown topic; use one of " + strings.Join(valid, ", ") + " (leave empty for all topics)"})
		}
	}
	if errs != nil {
		return nil, errs
	}
	out, err := set.TopicSlugs(slugs)
	if err != nil {
		return nil, []*FieldError{{Field: "topics", Value: strings.Join(slugs, ";"), Msg: err.Error()}}
	}
	return out, nil
}

// validateCadence is ParseCadence with a FieldError.
func validateCadence(s string) (Cadence, *FieldError) {
	c, err := ParseCadence(s)
	if err != nil {
		return "", &FieldError{Field: "cadence", Value: s, Msg: "unknown cadence: use weekly or daily (empty means weekly)"}
	}
	return c, nil
}

// Input is a subscriber as staff type it or as a CSV row gives it, before validation.
type Input struct {
	Email   string
	Name    string
	Regions []string
	Topics  []string
	Cadence string // empty = weekly
}

// Validate checks every field of in and returns the normalised subscriber
// (Email, Name, Regions, Topics, Cadence set; Status and Consent left to the
// caller) or every problem found.
func (in Input) Validate(set *taxonomy.Set) (Subscriber, []*FieldError) {
	var (
		sub  Subscriber
		errs []*FieldError
	)
	add := func(err error) {
		if fe, ok := err.(*FieldError); ok {
			errs = append(errs, fe)
		}
	}
	var err error
	if sub.Email, err = ValidateEmail(in.Email); err != nil {
		add(err)
	}
	if sub.Name, err = ValidateName(in.Name); err != nil {
		add(err)
	}
	var fes []*FieldError
	sub.Regions, fes = ValidateRegions(set, in.Regions)
	errs = append(errs, fes...)
	sub.Topics, fes = ValidateTopics(set, in.Topics)
	errs = append(errs, fes...)
	c, fe := validateCadence(in.Cadence)
	if fe != nil {
		errs = append(errs, fe)
	}
	sub.Cadence = c
	return sub, errs
}
