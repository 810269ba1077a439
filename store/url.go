package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/kommune21/digest/internal/redact"
)

// Location is a parsed database URL (DIGEST_DB). Its String is the URL with
// every password hidden; the password itself is only handed to the driver.
type Location struct {
	Dialect Dialect
	Path    string // SQLite: the database file

	raw     string   // as given, for the driver only
	shown   string   // redacted
	secrets []string // passwords in it (user info, password=, sslpassword=)
}

// String returns the URL with passwords replaced by "xxxxx".
func (l Location) String() string { return l.shown }

// GoString keeps %#v from printing the password.
func (l Location) GoString() string { return "store.Location(" + l.shown + ")" }

// Errors of ParseURL. They never contain the URL: it did not parse, so
// nothing can say where the password in it ends.
var (
	errNotURL = errors.New("DIGEST_DB is not a database URL (value not shown: it may hold a password); " +
		"use postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:PATH (key=value connection strings are not accepted)")
	errBadURL = errors.New("DIGEST_DB does not parse as a URL (value not shown: it may hold a password); " +
		"check the port and percent-encode special characters in user and password " +
		"('/' as %2F, '#' as %23, '?' as %3F, '@' as %40, '%' as %25, ':' as %3A, space as %20)")
)

// ParseURL parses a database URL: "postgres://…" (or "postgresql://…") for
// PostgreSQL, "sqlite:PATH" for SQLite. Errors never contain a password: a
// value that does not parse is not repeated at all.
func ParseURL(raw string) (Location, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		raw = DefaultURL
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return Location{}, errBadURL
		}
	}
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		shown := "sqlite:" + path
		if path == "" {
			return Location{}, fmt.Errorf("database URL %q names no file: use sqlite:PATH, e.g. sqlite:digest.db", shown)
		}
		if path == ":memory:" || strings.Contains(path, "mode=memory") {
			return Location{}, fmt.Errorf("database URL %q: in-memory SQLite gives every connection its own empty database; use a file path", shown)
		}
		return Location{Dialect: SQLite, Path: path, raw: raw, shown: shown}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return Location{}, errBadURL
		}
		if u.User == nil && strings.Contains(raw, "@") {
			// The '@' is in path, query or fragment: a '/', '?' or '#' in the password.
			return Location{}, errBadURL
		}
		if u.Fragment != "" || strings.Contains(raw, "#") {
			return Location{}, errBadURL
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return Location{}, errBadURL
		}
		loc := Location{Dialect: Postgres, raw: raw, shown: redact.URL(raw)}
		if loc.shown == redact.Unparsable {
			return Location{}, errBadURL
		}
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				loc.secrets = append(loc.secrets, p)
			}
		}
		for k, vals := range q {
			if redact.SecretParam(k) {
				loc.secrets = append(loc.secrets, vals...)
			}
		}
		loc.secrets = append(loc.secrets, raw)
		return loc, nil
	case strings.Contains(raw, "="):
		return Location{}, errNotURL
	}
	shown := redact.URL(raw)
	if shown == redact.NotURL || shown == redact.Unparsable {
		return Location{}, errNotURL
	}
	return Location{}, fmt.Errorf("database URL %q is not supported: set DIGEST_DB to postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:PATH", shown)
}

// Redact returns a database URL fit for logs and errors: passwords replaced
// by "xxxxx", and a value that does not parse not shown at all.
func Redact(raw string) string {
	loc, err := ParseURL(raw)
	if err != nil {
		if s := redact.URL(raw); s != "" && !strings.HasPrefix(raw, "postgres") {
			return s
		}
		return redact.Unparsable
	}
	return loc.String()
}
