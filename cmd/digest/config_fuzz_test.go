package main

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzConfigURLs puts a password into every configuration value that may
// carry one (DIGEST_DB, DIGEST_SMTP, DIGEST_BASE_URL, DIGEST_PORTAL_URL,
// DIGEST_FEEDS, DIGEST_MAILBOX), in the forms people write (user info, a
// query parameter, libpq key=value, no scheme), with arbitrary text around
// it: neither the error of loading and validating nor `digest config` shows it.
func FuzzConfigURLs(f *testing.F) {
	f.Add("postgres", "u", "pa$$word", "127.0.0.1:5432/x", 0)
	f.Add("smtp", "user", "p/ss#w?d", "mail.example.org:587", 1)
	f.Add("https", "", "s3cret", "digest.example.org/?a=b", 2)
	f.Add("http", "staff", "%zz", "[::1:8080", 3)
	f.Add("imaps", "u", "a b", "imap.example.org/INBOX", 5)
	f.Add("", "u", "pw", "h:port/x", 4)
	vars := []string{"DIGEST_DB", "DIGEST_SMTP", "DIGEST_BASE_URL", "DIGEST_PORTAL_URL", "DIGEST_FEEDS", "DIGEST_MAILBOX"}
	f.Fuzz(func(t *testing.T, scheme, user, pass, rest string, which int) {
		if strings.Contains(strings.ToLower(scheme+user+pass+rest), "zq9") {
			return
		}
		name := vars[(which%len(vars)+len(vars))%len(vars)]
		marked := "Zq9" + pass + "Zq9"
		for _, raw := range []string{
			scheme + "://" + user + ":" + marked + "@" + rest,
			scheme + "://" + user + "@" + rest + "?password=" + marked,
			scheme + "://" + rest + "?token=" + marked,
			user + ":" + marked + "@" + rest,
			"host=" + rest + " user=" + user + " password=" + marked,
		} {
			env := map[string]string{name: raw}
			if name == "DIGEST_FEEDS" {
				env[name] = "https://ok.example.org/rss," + raw
			}
			c, err := LoadConfig(func(k string) string { return env[k] })
			if err == nil {
				err = c.Validate()
			}
			if err != nil && strings.Contains(err.Error(), "Zq9") {
				t.Fatalf("%s=%q: the error shows the password: %v", name, raw, err)
			}
			var buf bytes.Buffer
			c.print(&buf)
			if strings.Contains(buf.String(), "Zq9") {
				t.Fatalf("%s=%q: digest config shows the password:\n%s", name, raw, buf.String())
			}
		}
	})
}
