package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/store/storetest"
)

// The secrets in these values all contain "hunter": no output of any command
// may contain it. Each form is one a careless operator writes: special
// characters in the password that were not percent-encoded, a bad port, a
// broken IPv6 literal, libpq's ?password=, key=value connection strings, a
// transport URL without its scheme.
var (
	secretDBForms = []string{
		"postgres://postgres:pa/hunter1@127.0.0.1:5432/x",
		"postgres://postgres:pa#hunter2@127.0.0.1:5432/x",
		"postgres://postgres:5432#hunter2b@127.0.0.1:5432/x",
		"postgres://postgres:pa?hunter3@127.0.0.1:5432/x",
		"postgres://postgres:pa hunter4@127.0.0.1:5432/x",
		"postgres://postgres:pa%zzhunter5@127.0.0.1:5432/x",
		"postgres://postgres:hunter6@127.0.0.1:port/x",
		"postgres://postgres:hunter7@[::1:5432/x",
		"postgres://postgres:hunter8",
		"postgres://postgres@127.0.0.1:1/x?sslmode=disable&password=hunter9",
		"postgresql://postgres@127.0.0.1:1/x?sslpassword=hunter10&sslmode=disable",
		"postgres://postgres:hunter11@127.0.0.1:1/x?sslmode=disable",
		"host=127.0.0.1 port=1 user=postgres password=hunter12 dbname=x",
		"user=postgres password='hunter13' host=127.0.0.1",
		"mysql://root:hunter14@127.0.0.1/x",
		"postgres://postgres:hunter15@127.0.0.1:1/x?password=hunter15b\x00",
	}
	secretSMTPForms = []string{
		"digest:hunterS1@relay.example.org:587",
		"smtp://digest:pa/hunterS2@relay.example.org:587",
		"smtp://digest:pa#hunterS3@relay.example.org:587",
		"smtp://digest:pa hunterS4@relay.example.org:587",
		"smtp://digest:hunterS5@relay.example.org:port",
		"smtp://digest:hunterS6",
		"smtp://digest:pa?hunterS7@relay.example.org:587",
		"smtps://digest:hunterS8@[::1:465",
	}
)

// leafCommands returns every runnable command path with arguments that get it
// past its own checks, so that it reaches the database and the transport.
func leafCommands(t *testing.T) [][]string {
	t.Helper()
	dir := t.TempDir()
	csv := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(csv, []byte("email,name\nanna@example.org,Anna\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	feed := filepath.Join("..", "..", "articles", "testdata", "feed.rss")
	args := map[string][]string{
		"subscribers add":                 {"anna@example.org"},
		"subscribers import":              {csv},
		"subscribers show":                {"anna@example.org"},
		"subscribers update":              {"anna@example.org", "--name", "Anna B"},
		"subscribers unsubscribe":         {"anna@example.org"},
		"subscribers delete":              {"anna@example.org"},
		"subscribers resend-confirmation": {"anna@example.org"},
		"subscribers export":              {filepath.Join(dir, "out.csv")},
		"articles import":                 {feed},
		"articles tag":                    {"1", "--region", "DE"},
		"topics add":                      {"neu-thema", "Neues Thema"},
		"topics rename":                   {"neu-thema", "Anderes Thema"},
		"preview":                         {"anna@example.org"},
		"serve":                           {"--addr", "127.0.0.1:0"},
	}
	var out [][]string
	var walk func(prefix []string, cmds []command)
	walk = func(prefix []string, cmds []command) {
		for _, c := range cmds {
			path := append(append([]string{}, prefix...), c.name)
			if c.run == nil {
				walk(path, c.sub)
				continue
			}
			if c.name == "demo" {
				continue // the demo uses its own database and outbox, whatever DIGEST_DB says
			}
			out = append(out, append(path, args[strings.Join(path, " ")]...))
		}
	}
	walk(nil, commands())
	return out
}

func runAll(t *testing.T, env map[string]string, args []string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // bounds `serve`
	defer cancel()
	run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return out.String() + errOut.String()
}

// TestSecrets_NeverPrinted runs every command with every hard case of
// DIGEST_DB and DIGEST_SMTP and greps all it prints, stdout and stderr, for
// the password.
func TestSecrets_NeverPrinted(t *testing.T) {
	leaves := leafCommands(t)
	if len(leaves) < 20 {
		t.Fatalf("found only %d commands", len(leaves))
	}
	check := func(t *testing.T, env map[string]string, args []string) {
		t.Helper()
		got := runAll(t, env, args)
		if strings.Contains(got, "hunter") {
			t.Errorf("digest %s with %q prints the password:\n%s", strings.Join(args, " "), env, got)
		}
	}
	t.Run("DIGEST_DB", func(t *testing.T) {
		for _, form := range secretDBForms {
			env := map[string]string{"DIGEST_DB": form}
			for _, args := range leaves {
				check(t, env, args)
			}
			check(t, env, []string{"migrate", "--db", form})
		}
	})
	t.Run("DIGEST_SMTP", func(t *testing.T) {
		db := storetest.SQLiteURL(t)
		if got := runAll(t, map[string]string{"DIGEST_DB": db}, []string{"migrate"}); !strings.Contains(got, "migrated") {
			t.Fatalf("migrate: %s", got)
		}
		for _, form := range secretSMTPForms {
			env := map[string]string{"DIGEST_DB": db, "DIGEST_SMTP": form}
			for _, args := range leaves {
				check(t, env, args)
			}
			check(t, map[string]string{"DIGEST_DB": db}, []string{"run", "--smtp", form})
		}
	})
}

// TestConfig_ShowsRedactedForms checks that `digest config` still says what
// it understood: the parsed URL without the password, or that it could not
// parse it.
func TestConfig_ShowsRedactedForms(t *testing.T) {
	for _, tc := range []struct{ env, value, want string }{
		{"DIGEST_DB", "postgres://digest:hunter@db.internal:5432/digest?sslmode=require", "postgres://digest:xxxxx@db.internal:5432/digest?sslmode=require"},
		{"DIGEST_DB", "postgres://digest@db.internal/digest?password=hunter&sslmode=require", "postgres://digest@db.internal/digest?password=xxxxx&sslmode=xxxxx"},
		{"DIGEST_SMTP", "smtp://mailer:hunter@relay.example.org:587", "smtp://mailer:xxxxx@relay.example.org:587"},
		{"DIGEST_SMTP", "mailer:hunter@relay.example.org:587", "(unparsable URL, password hidden)"},
		{"DIGEST_FEEDS", "https://reader:hunter@feeds.example.org/rss", "https://reader:xxxxx@feeds.example.org/rss"},
	} {
		got := runAll(t, map[string]string{tc.env: tc.value}, []string{"config"})
		if !strings.Contains(got, tc.want) || strings.Contains(got, "hunter") {
			t.Errorf("%s=%q: digest config printed\n%s\nwant it to show %q", tc.env, tc.value, got, tc.want)
		}
	}
}

// TestSecrets_Binary does the same through the built binary for the forms
// of the report.
func TestSecrets_Binary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, tc := range []struct {
		env  string
		args []string
	}{
		{"DIGEST_DB=postgres://postgres:pa/sshunter@127.0.0.1:5432/x", []string{"migrate"}},
		{"DIGEST_DB=postgres://postgres@127.0.0.1:1/x?sslmode=disable&password=hunter", []string{"subscribers", "list"}},
		{"DIGEST_DB=host=127.0.0.1 password=hunter", []string{"config"}},
		{"DIGEST_SMTP=mailer:hunter@relay.example.org:587", []string{"config"}},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = append(os.Environ(), tc.env, "DIGEST_DB_UNUSED=1")
		cmd.Dir = t.TempDir()
		out, _ := cmd.CombinedOutput()
		if strings.Contains(string(out), "hunter") || len(out) == 0 {
			t.Errorf("%s digest %v printed:\n%s", tc.env, tc.args, out)
		}
	}
}
