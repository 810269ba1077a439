package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestLoadConfig_Defaults(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.From = "Kommune21 Digest <digest@kommune21.example>"
	if got := c.EffectiveListID(); got != "Kommune21 Digest <digest.kommune21.example>" {
		t.Errorf("default List-Id = %q", got)
	}
	if c.DB != "sqlite:digest.db" || c.SMTP != "file:outbox" || c.SendWorkers != 8 || c.SendBatch != 16 || c.Schedule != DefaultSchedule {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestLoadConfig_Errors(t *testing.T) {
	for _, tc := range []struct{ env, value, want string }{
		{"DIGEST_SEND_WORKERS", "0", "DIGEST_SEND_WORKERS"},
		{"DIGEST_SEND_BATCH", "many", "DIGEST_SEND_BATCH"},
		{"DIGEST_SEND_RATE", "-1", "DIGEST_SEND_RATE"},
		{"DIGEST_FEED_INTERVAL", "5s", "DIGEST_FEED_INTERVAL"},
		{"DIGEST_LOG_LEVEL", "loud", "DIGEST_LOG_LEVEL"},
		{"DIGEST_DB", "mysql://root:hunter2@db/x", "DIGEST_DB"},
		{"DIGEST_FROM", "not an address", "DIGEST_FROM"},
		{"DIGEST_BASE_URL", "digest.example.org", "DIGEST_BASE_URL"},
		{"DIGEST_DKIM_DOMAIN", "kommune21.example", "DKIM"},
		{"DIGEST_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", "DIGEST_TRUSTED_PROXIES"},
		{"DIGEST_TRUSTED_PROXIES", "10.0.0.0/40", "10.0.0.0/40"},
		{"DIGEST_PRIVACY_URL", "datenschutz.html", "DIGEST_PRIVACY_URL"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			c, err := LoadConfig(func(k string) string {
				if k == tc.env {
					return tc.value
				}
				return ""
			})
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s=%q: err = %v, want it to name %s", tc.env, tc.value, err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows a password: %v", err)
			}
		})
	}
}

func TestLoadConfig_TrustedProxiesAndPrivacyURL(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{"DIGEST_TRUSTED_PROXIES": " 10.0.0.0/8 , 192.0.2.10,fd00::/8", "DIGEST_PRIVACY_URL": "https://www.example.org/datenschutz"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.0.2.10/32" || c.PrivacyURL != "https://www.example.org/datenschutz" {
		t.Fatalf("parsed %v %q", c.TrustedProxies, c.PrivacyURL)
	}
	var out bytes.Buffer
	c.print(&out)
	if !strings.Contains(out.String(), "10.0.0.0/8,192.0.2.10/32,fd00::/8") {
		t.Errorf("digest config does not show the proxies:\n%s", out.String())
	}
	if d, _ := LoadConfig(envOf(nil)); len(d.TrustedProxies) != 0 || d.PrivacyURL != "" {
		t.Errorf("defaults: %v %q", d.TrustedProxies, d.PrivacyURL)
	}
}

func TestConfig_FlagOverridesEnvAndSecretsStayHidden(t *testing.T) {
	env := map[string]string{
		"DIGEST_DB":     "postgres://digest:dbpass-123@127.0.0.1:1/digest",
		"DIGEST_SMTP":   "smtp://mailer:smtppass-456@relay.example.org:587",
		"DIGEST_SECRET": "k1:linksecret-789-abcdefgh",
		"DIGEST_FROM":   "Env Digest <env@example.org>",
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"config", "--from", "Flag Digest <flag@example.org>"},
		func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("config: %v\n%s", err, errOut.String())
	}
	got := out.String()
	if !strings.Contains(got, "Flag Digest <flag@example.org>") || strings.Contains(got, "Env Digest") {
		t.Errorf("the flag did not override the variable:\n%s", got)
	}
	for _, secret := range []string{"dbpass-123", "smtppass-456", "linksecret-789"} {
		if strings.Contains(got+errOut.String(), secret) {
			t.Errorf("`digest config` shows %s:\n%s", secret, got)
		}
	}
	out.Reset()
	errOut.Reset()
	run(context.Background(), []string{"run", "--help"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	for _, secret := range []string{"dbpass-123", "smtppass-456", "linksecret-789"} {
		if strings.Contains(out.String()+errOut.String(), secret) {
			t.Errorf("`digest run --help` shows %s", secret)
		}
	}
	if !strings.Contains(out.String(), "DIGEST_SMTP") {
		t.Errorf("`digest run --help` does not name the variables:\n%s", out.String())
	}
}

func TestRun_ExitCodes(t *testing.T) {
	dbURL := "sqlite:" + t.TempDir() + "/never-migrated.db"
	env := func(k string) string {
		if k == "DIGEST_DB" {
			return dbURL
		}
		return ""
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "no command"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"regions", "list", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"regions", "list"}, 1, "run `digest migrate`"},
		{[]string{"help"}, 0, ""},
		{[]string{"run", "--cadence", "monthly"}, 2, "monthly"},
		{[]string{"run", "--at", "next monday"}, 2, "RFC 3339"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, env, strings.NewReader(""), &out, &errOut)
		if exitCode(err) != tc.code || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("digest %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, exitCode(err), errOut.String(), tc.code, tc.want)
		}
	}
}

// FuzzLoadConfig feeds arbitrary values to every variable: loading and
// validating never panics, and an error never repeats a secret's value.
func FuzzLoadConfig(f *testing.F) {
	f.Add("smtp://u:p@h:587", "4", "1.5", "30m", "postgres://u:p@h/db", "A <a@b.de>", "k:0123456789abcdef0")
	f.Add("file:outbox", "x", "-3", "1h", "sqlite:x.db", "", "")
	f.Add("\r\n", "1001", "NaN", "-1m", "sqlite:", "<>", "\x00")
	f.Fuzz(func(t *testing.T, smtp, workers, rate, interval, db, from, secret string) {
		env := map[string]string{"DIGEST_SMTP": smtp, "DIGEST_SEND_WORKERS": workers, "DIGEST_SEND_RATE": rate,
			"DIGEST_FEED_INTERVAL": interval, "DIGEST_DB": db, "DIGEST_FROM": from, "DIGEST_SECRET": secret}
		c, err := LoadConfig(func(k string) string { return env[k] })
		for k, v := range env {
			if k != "DIGEST_SECRET" && strings.Contains(v, secret) {
				secret = "" // echoed as part of another value: not a leak
			}
		}
		if err == nil {
			err = c.Validate()
		}
		if err != nil && len(secret) >= 8 && strings.Contains(err.Error(), secret) {
			t.Fatalf("error repeats DIGEST_SECRET: %v", err)
		}
		var buf bytes.Buffer
		c.print(&buf)
		if len(secret) >= 8 && strings.Contains(buf.String(), secret) {
			t.Fatalf("config output repeats DIGEST_SECRET")
		}
	})
}
