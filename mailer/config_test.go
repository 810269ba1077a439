package mailer_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/kommune21/digest/mailer"
)

const secret = "S3cr3t-P4ss"

func TestParseURL(t *testing.T) {
	ok := []struct {
		raw    string
		want   mailer.Config
		string string
	}{
		{"smtp://user:" + secret + "@mail.example.org:587", mailer.Config{Scheme: "smtp", Host: "mail.example.org", Port: 587, Username: "user", Password: secret, TLS: mailer.STARTTLS}, "smtp://user:xxxxx@mail.example.org:587"},
		{"smtp://mail.example.org", mailer.Config{Scheme: "smtp", Host: "mail.example.org", Port: 587, TLS: mailer.STARTTLS}, "smtp://mail.example.org:587"},
		{"smtps://user%40example.org:p%2Fw%40rd@mail.example.org", mailer.Config{Scheme: "smtps", Host: "mail.example.org", Port: 465, Username: "user@example.org", Password: "p/w@rd", TLS: mailer.ImplicitTLS}, "smtps://user%40example.org:xxxxx@mail.example.org:465"},
		{"SMTP://127.0.0.1:1025?tls=none", mailer.Config{Scheme: "smtp", Host: "127.0.0.1", Port: 1025, TLS: mailer.NoTLS}, "smtp://127.0.0.1:1025?tls=none"},
		{"smtp://localhost:1025?tls=none", mailer.Config{Scheme: "smtp", Host: "localhost", Port: 1025, TLS: mailer.NoTLS}, "smtp://localhost:1025?tls=none"},
		{"smtp://[::1]:2525?tls=none", mailer.Config{Scheme: "smtp", Host: "::1", Port: 2525, TLS: mailer.NoTLS}, "smtp://[::1]:2525?tls=none"},
		{"smtp://127.8.9.10:25?tls=starttls", mailer.Config{Scheme: "smtp", Host: "127.8.9.10", Port: 25, TLS: mailer.STARTTLS}, "smtp://127.8.9.10:25"},
		{"file:outbox", mailer.Config{Scheme: "file", Dir: "outbox"}, "file:outbox"},
		{"file:/var/spool/digest/", mailer.Config{Scheme: "file", Dir: "/var/spool/digest"}, "file:/var/spool/digest"},
		{"file:///var/spool/digest", mailer.Config{Scheme: "file", Dir: "/var/spool/digest"}, "file:/var/spool/digest"},
	}
	for _, tc := range ok {
		got, err := mailer.ParseURL(tc.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if fmt.Sprint(got.Scheme, got.Host, got.Port, got.Username, got.Password, got.TLS, got.Dir) !=
			fmt.Sprint(tc.want.Scheme, tc.want.Host, tc.want.Port, tc.want.Username, tc.want.Password, tc.want.TLS, tc.want.Dir) {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tc.raw, got, tc.want)
		}
		if s := got.String(); s != tc.string {
			t.Errorf("String(%q) = %q, want %q", tc.raw, s, tc.string)
		}
	}

	bad := []struct{ raw, want string }{
		{"", "empty"},
		{"mail.example.org", "no scheme"},
		{"http://user:" + secret + "@mail.example.org", `unknown scheme "http"`},
		{"smtp://user:" + secret + "@mail.example.org:99999", "port"},
		{"smtp://user:" + secret + "@mail.example.org:abc", "not a valid URL"},
		{"smtp://user:" + secret + "/x@mail.example.org", "not a valid URL"},
		{"smtp://user:12?" + secret + "@mail.example.org", "percent-encode"},
		{"smtp://user:" + secret + "@mail.example.org:25?tls=none", "only allowed to a loopback host"},
		{"smtp://user:" + secret + "@10.0.0.1:25?tls=none", "only allowed to a loopback host"},
		{"smtp://user:" + secret + "@localhost.evil.example:25?tls=none", "only allowed to a loopback host"},
		{"smtps://user:" + secret + "@127.0.0.1:465?tls=none", "smtps:// always uses TLS"},
		{"smtp://user:" + secret + "@mail.example.org?tls=maybe", `tls="maybe"`},
		{"smtp://user:" + secret + "@mail.example.org?helo=x", `unknown parameter "helo"`},
		{"smtp://user:" + secret + "@mail.example.org/path", "unexpected path"},
		{"smtp://:" + secret + "@mail.example.org", "password without user name"},
		{"smtp://user:" + secret + "@mail.example.org\r\nBcc: x", "control characters"},
		{"smtp:user:" + secret + "@mail.example.org", "no host"},
		{"file:", "no directory"},
		{"file://otherhost/dir", `names host "otherhost"`},
		{"file://user:" + secret + "@otherhost/dir", "names host (not shown"},
	}
	for _, tc := range bad {
		_, err := mailer.ParseURL(tc.raw)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded", tc.raw)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("ParseURL(%q) = %q, want it to mention %q", tc.raw, msg, tc.want)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("ParseURL(%q) error leaks the password: %q", tc.raw, msg)
		}
		if !strings.Contains(msg, "smtp://USER:PASSWORD@HOST:587") {
			t.Errorf("ParseURL(%q) error does not show valid forms: %q", tc.raw, msg)
		}
	}
}

func TestConfig_NeverPrintsPassword(t *testing.T) {
	c, err := mailer.ParseURL("smtps://user:" + secret + "@mail.example.org")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "smtp", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("start", "smtp", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), buf.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("password printed: %s", s)
		}
	}
	tr, err := mailer.New(c)
	if err != nil {
		t.Fatal(err)
	}
	if s := tr.String(); s != "smtps://user:xxxxx@mail.example.org:465" {
		t.Errorf("Transport.String = %q", s)
	}
}

func TestNew_RejectsPlaintextToRemoteHost(t *testing.T) {
	// A Config built by hand must not bypass the loopback rule.
	_, err := mailer.New(mailer.Config{Scheme: "smtp", Host: "mail.example.org", Port: 25, TLS: mailer.NoTLS})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("New: %v", err)
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"smtp://user:pass@host:587", "smtps://u:p@h", "smtp://127.0.0.1:1025?tls=none",
		"file:outbox", "file:///tmp/x", "smtp://[::1]:25?tls=none", "smtp://u:p%2F@h:1?tls=starttls",
	} {
		f.Add(s, "pa$$word")
	}
	f.Fuzz(func(t *testing.T, raw, pass string) {
		c, err := mailer.ParseURL(raw)
		if err == nil {
			// The redacted form parses back to the same transport.
			back, err := mailer.ParseURL(c.String())
			if err != nil {
				t.Fatalf("String() of %q = %q does not parse: %v", raw, c.String(), err)
			}
			if back.Scheme != c.Scheme || back.Host != c.Host || back.Port != c.Port || back.Username != c.Username || back.TLS != c.TLS || back.Dir != c.Dir {
				t.Fatalf("round trip %q → %q: %+v != %+v", raw, c.String(), back, c)
			}
			if c.Password != "" && strings.Contains(c.String(), c.Password) && c.Password != "xxxxx" &&
				!strings.Contains(strings.Replace(c.String(), "xxxxx", "", 1), c.Password) {
				t.Fatalf("String() %q shows the password", c.String())
			}
		}
		// A password inserted into a URL never shows in the error.
		marked := "Zq9" + pass + "Zq9"
		for _, u := range []string{"smtp://user:" + marked + "@" + raw, "smtps://user:" + marked + "@mail.example.org:" + raw, raw + "://u:" + marked + "@h"} {
			if _, err := mailer.ParseURL(u); err != nil && strings.Contains(err.Error(), marked) {
				t.Fatalf("ParseURL(%q) error leaks the password: %v", u, err)
			}
		}
	})
}
