package redact_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kommune21/digest/internal/redact"
)

// FuzzURL: a password put anywhere a URL carries one (user info, a secret
// query parameter, libpq's password=, after an unencoded '&') never appears
// in what URL returns, however the rest of the URL looks; nor in an error
// wrapped by Error with that password.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"host:5432/db", "h/x?sslmode=disable", "[::1]:25", "h:port/x", "h/x#y", "[::1:5432/x", "", "h/x?a=b?c", "h/%zz"} {
		f.Add("https", "user", "pa$$word", s)
	}
	f.Add("postgres", "u", "a/b#c?d e", "h/x")
	f.Add("smtp", "", "p@ss:w", "mail.example.org:587")
	f.Add("imaps", "u%40x", "%2F%3F", "h")
	f.Fuzz(func(t *testing.T, scheme, user, pass, rest string) {
		if strings.Contains(scheme+user+pass+rest, "Zq9") || strings.Contains(strings.ToLower(scheme+user+rest), "zq9") {
			return
		}
		marked := "Zq9" + pass + "Zq9"
		for _, raw := range []string{
			scheme + "://" + user + ":" + marked + "@" + rest,
			scheme + "://" + user + "@" + rest + "?password=" + marked,
			scheme + "://" + rest + "?x=1&token=" + marked + "&y=2",
			scheme + "://" + rest + "?sslmode=require&sslpassword=" + marked,
			scheme + "://" + rest + "&password=" + marked,
			scheme + "://" + user + ":" + marked + "@" + rest + "?password=" + marked,
			user + ":" + marked + "@" + rest,
		} {
			if shown := redact.URL(raw); strings.Contains(shown, "Zq9") {
				t.Fatalf("URL(%q) = %q shows the password", raw, shown)
			}
		}
		if len(pass) >= 4 && !strings.ContainsAny(pass, "xX") { // shorter ones may overlap the mask or the text
			err := redact.Error(errors.New("connect to "+scheme+"://"+user+":"+pass+"@"+rest+" failed: "+pass), pass)
			if strings.Contains(err.Error(), pass) {
				t.Fatalf("Error(%q) = %q shows the password", pass, err)
			}
		}
	})
}
