package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestConfig_RefusesBrokenSettings: a base URL with a query or fragment would
// break every link; a display name taken from a comment is not one.
func TestConfig_RefusesBrokenSettings(t *testing.T) {
	for _, tc := range []struct{ env, value, want string }{
		{"DIGEST_BASE_URL", "https://digest.example.org/?x=1", "must not have a query (?…) or fragment (#…)"},
		{"DIGEST_BASE_URL", "https://digest.example.org/#top", "must not have a query (?…) or fragment (#…)"},
		{"DIGEST_BASE_URL", "https://digest.example.org/?", "must not have a query (?…) or fragment (#…)"},
		{"DIGEST_FROM", "digest@example.org (Kommune21 Digest)", `as "Kommune21 Digest <digest@example.org>"`},
	} {
		var out, errOut bytes.Buffer
		env := map[string]string{"DIGEST_DB": "sqlite:" + t.TempDir() + "/x.db", tc.env: tc.value}
		err := run(t.Context(), []string{"migrate"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
		if exitCode(err) != 2 && exitCode(err) != 1 || !strings.Contains(errOut.String(), tc.want) || !strings.Contains(errOut.String(), tc.env) {
			t.Errorf("%s=%q: exit %d, stderr %q; want it refused naming the variable and %q", tc.env, tc.value, exitCode(err), errOut.String(), tc.want)
		}
	}
}

// TestWarnRelaySettings: through a real relay, trial settings are named once;
// to a file outbox or a loopback server nothing is said.
func TestWarnRelaySettings(t *testing.T) {
	for _, tc := range []struct {
		smtp string
		warn bool
	}{
		{"smtp://user:pw@relay.example.org:587", true},
		{"smtps://relay.example.org:465", true},
		{"smtp://127.0.0.1:1025?tls=none", false},
		{"smtp://localhost:1025?tls=none", false},
		{"file:outbox", false},
	} {
		a := testApp(t, map[string]string{"DIGEST_SMTP": tc.smtp})
		var errOut bytes.Buffer
		a.stderr = &errOut
		a.warnRelaySettings()
		a.warnRelaySettings() // once per command
		got := errOut.String()
		if !tc.warn {
			if got != "" {
				t.Errorf("%s: %q, want no warning", tc.smtp, got)
			}
			continue
		}
		for _, v := range []string{"DIGEST_FROM", "DIGEST_BASE_URL", "DIGEST_IMPRINT"} {
			if strings.Count(got, "warning: "+v) != 1 {
				t.Errorf("%s: want one warning naming %s, got:\n%s", tc.smtp, v, got)
			}
		}
		if strings.Contains(got, "pw") {
			t.Errorf("%s: the warning shows the password:\n%s", tc.smtp, got)
		}
	}
	// set properly, nothing is said
	a := testApp(t, map[string]string{"DIGEST_SMTP": "smtp://relay.example.org:587", "DIGEST_FROM": "Kommune21 Digest <digest@kommune21.de>",
		"DIGEST_BASE_URL": "https://digest.kommune21.de", "DIGEST_IMPRINT": "Kommune21, Musterstraße 1"})
	var errOut bytes.Buffer
	a.stderr = &errOut
	a.warnRelaySettings()
	if errOut.Len() != 0 {
		t.Errorf("proper settings: %q", errOut.String())
	}
}
