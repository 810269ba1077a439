package emailaddr_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kommune21/digest/internal/emailaddr"
	"golang.org/x/text/unicode/norm"
)

func TestOneMailboxOneKey(t *testing.T) {
	for _, group := range [][]string{
		{"müller@example.org", "mu\u0308ller@example.org", "MÜLLER@Example.ORG", "Mu\u0308ller@EXAMPLE.org"},
		{"x@münchen.de", "x@xn--mnchen-3ya.de", "X@MÜNCHEN.DE", "x@XN--MNCHEN-3YA.DE", "x@mu\u0308nchen.de"},
		{"anna@example.org", "anna@example．org", "anna@ｅｘａｍｐｌｅ.org", "Anna@Example.Org"},
	} {
		want := emailaddr.Key(group[0])
		for _, a := range group[1:] {
			if got := emailaddr.Key(a); got != want {
				t.Errorf("Key(%q) = %q, want %q (as %q)", a, got, want, group[0])
			}
		}
	}
	if emailaddr.Key("x@münchen.de") == emailaddr.Key("x@munchen.de") {
		t.Error("ü and u are one key")
	}
}

func TestForms(t *testing.T) {
	for _, tc := range []struct{ in, normal, key, ascii string }{
		{"Anna@Example.ORG", "Anna@Example.ORG", "anna@example.org", "Anna@Example.ORG"},
		{"x@xn--mnchen-3ya.de", "x@xn--mnchen-3ya.de", "x@xn--mnchen-3ya.de", "x@xn--mnchen-3ya.de"},
		{"Mu\u0308ller@MU\u0308nchen.de", "Müller@münchen.de", "müller@xn--mnchen-3ya.de", "Müller@xn--mnchen-3ya.de"},
		{"anna@example．org", "anna@example.org", "anna@example.org", "anna@example.org"},
	} {
		n, err := emailaddr.Normalize(tc.in)
		if err != nil || n != tc.normal {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, n, err, tc.normal)
		}
		if k := emailaddr.Key(tc.in); k != tc.key {
			t.Errorf("Key(%q) = %q, want %q", tc.in, k, tc.key)
		}
		if a := emailaddr.ASCII(n); a != tc.ascii {
			t.Errorf("ASCII(%q) = %q, want %q", n, a, tc.ascii)
		}
	}
	if _, err := emailaddr.Normalize("a@exa_mple.org"); err == nil {
		t.Error("invalid domain accepted")
	}
}

// FuzzNormalize: normalising is idempotent and keeps the identity; the
// sending form has an ASCII domain; the key of every form is the same.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"anna@example.org", "mu\u0308ller@münchen.de", "x@xn--mnchen-3ya.de", "a@example．org", "a@b@c.de", "@", "a@", "ß@straße.de", "a@ＥＸＡＭＰＬＥ.ORG"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if !utf8.ValidString(addr) {
			return
		}
		n, err := emailaddr.Normalize(addr)
		if err != nil {
			return
		}
		n2, err := emailaddr.Normalize(n)
		if err != nil || n2 != n {
			t.Fatalf("Normalize not idempotent: %q → %q → %q (%v)", addr, n, n2, err)
		}
		if !norm.NFC.IsNormalString(n[:strings.LastIndexByte(n, '@')]) {
			t.Fatalf("local part of %q not NFC", n)
		}
		k := emailaddr.Key(n)
		a := emailaddr.ASCII(n)
		if emailaddr.Key(addr) != k || emailaddr.Key(a) != k {
			t.Fatalf("keys differ: Key(%q)=%q Key(%q)=%q Key(%q)=%q", addr, emailaddr.Key(addr), n, k, a, emailaddr.Key(a))
		}
		d := a[strings.LastIndexByte(a, '@')+1:]
		for i := 0; i < len(d); i++ {
			if d[i] >= 0x80 {
				t.Fatalf("ASCII(%q) = %q has a non-ASCII domain", n, a)
			}
		}
	})
}
