package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kommune21/digest/store"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw, shown string
		dialect    store.Dialect
	}{
		{"sqlite:digest.db", "sqlite:digest.db", store.SQLite},
		{"sqlite:///var/lib/digest/digest.db", "sqlite:/var/lib/digest/digest.db", store.SQLite},
		{"postgres://digest@db:5432/digest", "postgres://digest@db:5432/digest", store.Postgres},
		{"postgres://digest:p%2Fw@db/digest?sslmode=require", "postgres://digest:xxxxx@db/digest?sslmode=require", store.Postgres},
		{"postgresql://digest@db/digest?sslmode=require&password=pw&sslpassword=pw2", "postgresql://digest@db/digest?sslmode=require&password=xxxxx&sslpassword=xxxxx", store.Postgres},
		{"postgres:///digest?host=/run/postgresql", "postgres:///digest?host=/run/postgresql", store.Postgres},
	} {
		loc, err := store.ParseURL(tc.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if loc.String() != tc.shown || loc.Dialect != tc.dialect {
			t.Errorf("ParseURL(%q) = %q (%s), want %q (%s)", tc.raw, loc, loc.Dialect, tc.shown, tc.dialect)
		}
	}
	for _, raw := range []string{
		"postgres://u:pa/Zq9@h/x", "postgres://u:pa#Zq9@h/x", "postgres://u:12#Zq9@h/x", "postgres://u:pa?Zq9@h/x",
		"postgres://u:pa Zq9@h/x", "postgres://u:pa%zzZq9@h/x", "postgres://u:Zq9@h:port/x", "postgres://u:Zq9@[::1:5432/x",
		"host=h password=Zq9", "mysql://u:Zq9@h/x", "postgres://u:Zq9@h/x\nX", "sqlite:", "sqlite::memory:",
	} {
		_, err := store.ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted it", raw)
			continue
		}
		if strings.Contains(err.Error(), "Zq9") {
			t.Errorf("ParseURL(%q) error shows the password: %v", raw, err)
		}
		if !strings.Contains(err.Error(), "DIGEST_DB") && !strings.Contains(err.Error(), "sqlite:") {
			t.Errorf("ParseURL(%q) error does not say what to fix: %v", raw, err)
		}
		if got := store.Redact(raw); strings.Contains(got, "Zq9") {
			t.Errorf("Redact(%q) = %q", raw, got)
		}
	}
}

// TestOpen_DriverErrorHasNoPassword connects to a closed port: the driver's
// error must not carry the password, in whichever place the URL held it.
func TestOpen_DriverErrorHasNoPassword(t *testing.T) {
	for _, raw := range []string{
		"postgres://postgres:Zq9-secret@127.0.0.1:1/x?sslmode=disable",
		"postgres://postgres@127.0.0.1:1/x?sslmode=disable&password=Zq9-secret",
		"postgres://postgres@127.0.0.1:1/x?sslmode=bogus&password=Zq9-secret",
	} {
		_, err := store.Open(context.Background(), raw)
		if err == nil || strings.Contains(err.Error(), "Zq9") {
			t.Errorf("Open(%q): %v", raw, err)
		}
	}
}

// FuzzParseURL: a password put into a database URL never appears in what
// ParseURL, String or Redact return, however the rest of the URL looks.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"h:5432/x", "h/x?sslmode=disable", "[::1]:5432/x", "h:port/x", "h/x#y", "[::1:5432/x", ""} {
		f.Add("postgres", "pa$$word", s)
	}
	f.Add("u", "a/b", "h/x")
	f.Add("", "a#b?c d", "h/x?password=1")
	f.Fuzz(func(t *testing.T, user, pass, rest string) {
		if strings.Contains(user+pass+rest, "Zq9") {
			return
		}
		marked := "Zq9" + pass + "Zq9"
		for _, raw := range []string{
			"postgres://" + user + ":" + marked + "@" + rest,
			"postgresql://" + user + "@" + rest + "?password=" + marked,
			"postgres://" + user + "@" + rest + "&sslpassword=" + marked,
			"user=" + user + " password=" + marked + " " + rest,
			user + ":" + marked + "@" + rest,
		} {
			loc, err := store.ParseURL(raw)
			shown := store.Redact(raw)
			if err != nil {
				shown += err.Error()
			} else {
				shown += loc.String()
			}
			if strings.Contains(shown, "Zq9") {
				t.Fatalf("ParseURL(%q) shows the password: %s", raw, shown)
			}
		}
	})
}
