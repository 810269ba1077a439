// Package redact makes configuration values that may hold a secret safe to
// print: URLs with a password in their user info or query, and errors of
// drivers that repeat the value they were given.
//
// The rule is "never print a value as given unless it was understood": a URL
// that does not parse is not shown at all, because the parser cannot say
// where its password ends (a '/', '#', '?' or space in a password moves it
// into the path, fragment, query or host).
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces a password.
const Mask = "xxxxx"

// Unparsable is shown instead of a URL that does not parse.
const Unparsable = "(unparsable URL, password hidden)"

// NotURL is shown instead of a value that is not a URL at all (such as a
// key=value connection string).
const NotURL = "(not a URL, hidden: it may hold a password)"

// secretParams are query parameters whose values are passwords or keys
// (libpq's password and sslpassword among them), compared in lower case.
var secretParams = map[string]bool{
	"password": true, "sslpassword": true, "pass": true, "passwd": true, "pwd": true,
	"secret": true, "token": true, "access_token": true, "apikey": true, "api_key": true,
	"key": true, "auth": true,
}

// SecretParam reports whether a URL query parameter holds a secret: its
// name is, or ends in, one of the names above ("sslpassword", "db_token").
func SecretParam(name string) bool {
	name = strings.ToLower(name)
	for p := range secretParams {
		if strings.HasSuffix(name, p) {
			return true
		}
	}
	return false
}

// URL returns raw with every password replaced by Mask: the one in the user
// info, secret query parameters (password=, sslpassword=, …) and any
// fragment. A value that does not parse as a URL, or whose '@' the parser did
// not read as the end of user info, is replaced as a whole.
func URL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return Unparsable
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Unparsable
	}
	if u.Scheme == "" {
		return NotURL
	}
	if strings.Contains(u.Opaque, ":") {
		// "sqlite:digest.db" and "file:outbox" are fine, "user:pass:word@host" is not.
		return Unparsable
	}
	if u.User == nil && strings.Contains(raw, "@") || strings.Contains(u.Path+u.RawPath+u.RawQuery+u.Fragment, "@") {
		// An '@' in path, query or fragment: a password with '/', '?' or '#',
		// or a second user:password@ the parser did not take for user info.
		return Unparsable
	}
	if u.User != nil && strings.Count(authority(raw), "@") > 1 {
		// "user:pa@ss@host": where the password ends is a guess.
		return Unparsable
	}
	if u.User != nil && containsAny(strings.ToLower(authority(raw)), strayPasswordKeys) {
		// "scheme://host&password=p@ss": a query-style password with an '@'
		// the parser took for user info, so that the host shown is its end.
		return Unparsable
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
	}
	u.RawQuery = Query(u.RawQuery)
	if u.Fragment != "" || u.RawFragment != "" {
		u.Fragment, u.RawFragment = Mask, ""
	}
	shown := u.String()
	if strayPassword(shown) {
		// "password=" where the parser did not see a parameter: in the path
		// ("/db&password=…") or inside another value ("?a=b?password=…").
		return Unparsable
	}
	return shown
}

// authority returns the part of raw between "//" and the next '/', '?' or '#'.
func authority(raw string) string {
	_, rest, ok := strings.Cut(raw, "//")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// strayPasswordKeys are looked for anywhere in a redacted URL.
var strayPasswordKeys = []string{"password=", "pass=", "passwd=", "pwd=", "secret=", "token="}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func strayPassword(shown string) bool {
	lower := strings.ToLower(shown)
	for _, k := range strayPasswordKeys {
		for i := 0; ; {
			j := strings.Index(lower[i:], k)
			if j < 0 {
				break
			}
			i += j + len(k)
			if !strings.HasPrefix(lower[i:], Mask) {
				return true
			}
		}
	}
	return false
}

// Query returns a raw query string with the values of secret parameters
// replaced by Mask, keeping the order of the parameters. An unencoded '&' in
// a password splits it into what look like further parameters, so after the
// first secret parameter every value is masked, and so is every name that is
// not a plain identifier.
func Query(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	afterSecret := false
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		switch {
		case err != nil:
			parts[i] = Mask
		case SecretParam(name):
			parts[i] = k + "=" + Mask
			afterSecret = true
		case afterSecret && (!hasValue || !identifier(k)), !hasValue && !identifier(k):
			parts[i] = Mask
		case afterSecret || hasValue && !identifier(k):
			parts[i] = k + "=" + Mask
		}
	}
	return strings.Join(parts, "&")
}

func identifier(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Error wraps err so that its message never contains any of secrets (or
// their percent-encoded forms); errors.Is and errors.As still see err.
// Empty secrets are ignored; a nil err stays nil.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var list []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		list = append(list, s)
		if e := url.QueryEscape(s); e != s {
			list = append(list, e)
		}
		if e := url.PathEscape(s); e != s {
			list = append(list, e)
		}
	}
	if len(list) == 0 {
		return err
	}
	return &scrubbed{err: err, secrets: list}
}

type scrubbed struct {
	err     error
	secrets []string
}

func (e *scrubbed) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, Mask)
	}
	return msg
}

func (e *scrubbed) Unwrap() error { return e.err }
