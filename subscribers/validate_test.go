package subscribers_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
)

// testSet is a small taxonomy; the store tests use the seeded one.
func testSet() *taxonomy.Set {
	return taxonomy.NewSet(
		[]taxonomy.Region{{Code: "DE", Name: "Bundesweit"}, {Code: "DE-BY", Name: "Bayern"}, {Code: "DE-HE", Name: "Hessen"}, {Code: "DE-TH", Name: "Thüringen"}},
		[]taxonomy.Topic{{Slug: "it-sicherheit", Name: "IT-Sicherheit"}, {Slug: "open-source", Name: "Open Source"}},
	)
}

func TestValidateEmail(t *testing.T) {
	ok := map[string]string{
		"anna@example.org":            "anna@example.org",
		"  Anna.Schmidt@Example.ORG ": "Anna.Schmidt@Example.ORG",
		"jörg@bücher.de":              "jörg@bücher.de",
		"info@xn--bcher-kva.de":       "info@xn--bcher-kva.de",
		"a+tag@sub.example.co.uk":     "a+tag@sub.example.co.uk",
		"mu\u0308ller@example.org":    "müller@example.org", // NFD → NFC
		"anna@example．org":            "anna@example.org",   // full-width dot
		"anna@ＥＸＡＭＰＬＥ.org":            "anna@example.org",
	}
	for in, want := range ok {
		got, err := subscribers.ValidateEmail(in)
		if err != nil || got != want {
			t.Errorf("ValidateEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                                       "empty",
		"anna":                                   "not an email address",
		"Anna <anna@example.org>":                "bare address",
		"<anna@example.org>":                     "bare address",
		"anna@example.org (Anna)":                "space or control",
		`"anna s"@example.org`:                   "space or control",
		"anna@localhost":                         "no dot",
		"anna@[192.0.2.1]":                       "IP address",
		"anna@exa_mple.org":                      "not a valid domain",
		"anna@-example.org":                      "not a valid domain",
		"anna@example.org\r\nBcc: x@y.de":        "control",
		"anna\x00@example.org":                   "control",
		strings.Repeat("a", 65) + "@example.org": "before @",
		"a@" + strings.Repeat("b", 250) + ".de":  "bytes long",
		"a@b.de,c@d.de":                          "not an email address",
		"anna@exam\xffple.org":                   "UTF-8",
		"anna@xn--.de":                           "domain",
		strings.Repeat("x", 10240) + "@" + strings.Repeat("y", 10): "bytes long",
	}
	for in, want := range bad {
		_, err := subscribers.ValidateEmail(in)
		var fe *subscribers.FieldError
		if !errors.As(err, &fe) || fe.Field != "email" || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateEmail(%q) = %v, want a field error on email containing %q", in, err, want)
		}
		if err != nil && len(err.Error()) > 400 {
			t.Errorf("ValidateEmail(%.20q…): message of %d bytes, want a short one", in, len(err.Error()))
		}
	}
}

// TestValidateEmail_OneMailboxOneIdentity: every way of typing one mailbox
// validates to one identity (EmailKey), so the store sees one subscriber.
func TestValidateEmail_OneMailboxOneIdentity(t *testing.T) {
	for _, group := range [][]string{
		{"müller@example.org", "mu\u0308ller@example.org", "MÜLLER@example.org"},
		{"x@münchen.de", "x@xn--mnchen-3ya.de", "x@MU\u0308NCHEN.de"},
		{"anna@example.org", "anna@example．org", "ANNA@ｅｘａｍｐｌｅ.org"},
	} {
		first, err := subscribers.ValidateEmail(group[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range group[1:] {
			v, err := subscribers.ValidateEmail(a)
			if err != nil || subscribers.EmailKey(v) != subscribers.EmailKey(first) || subscribers.EmailKey(a) != subscribers.EmailKey(first) {
				t.Errorf("%q validates to %q (key %q), %q to %q (key %q): want one identity (%v)",
					group[0], first, subscribers.EmailKey(first), a, v, subscribers.EmailKey(v), err)
			}
		}
	}
}

func TestValidateName(t *testing.T) {
	if got, err := subscribers.ValidateName("  Jörg Müller-Lüdenscheidt "); err != nil || got != "Jörg Müller-Lüdenscheidt" {
		t.Fatalf("got %q, %v", got, err)
	}
	if got, err := subscribers.ValidateName(strings.Repeat("ä", 200)); err != nil || got != strings.Repeat("ä", 200) {
		t.Fatalf("200 umlauts: %v", err)
	}
	for name, in := range map[string]string{
		"CR": "Anna\rSchmidt", "LF": "Anna\nBcc: x@example.org", "NUL": "Anna\x00", "tab": "Anna\tSchmidt",
		"line separator": "Anna\u2028Schmidt", "ESC": "Anna\x1b[31m", "too long": strings.Repeat("a", 201),
		"10 KB": strings.Repeat("Müller ", 1500), "invalid UTF-8": "Anna \xff",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := subscribers.ValidateName(in)
			var fe *subscribers.FieldError
			if !errors.As(err, &fe) || fe.Field != "name" || !strings.Contains(err.Error(), `field "name" value "`) {
				t.Fatalf("err = %v, want a field error naming the field and value", err)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("message of %d bytes: a long value must be shortened", len(err.Error()))
			}
		})
	}
}

func TestInput_Validate(t *testing.T) {
	set := testSet()
	t.Run("OK", func(t *testing.T) {
		sub, errs := subscribers.Input{Email: "a@example.org", Name: " A ", Regions: []string{"de-th", "DE-BY", "de-by"},
			Topics: []string{"Open-Source", "it-sicherheit"}, Cadence: "Daily"}.Validate(set)
		if errs != nil {
			t.Fatal(errs)
		}
		want := subscribers.Subscriber{Email: "a@example.org", Name: "A", Regions: []string{"DE-BY", "DE-TH"},
			Topics: []string{"it-sicherheit", "open-source"}, Cadence: subscribers.Daily}
		if !reflect.DeepEqual(sub, want) {
			t.Fatalf("got %+v\nwant %+v", sub, want)
		}
	})
	t.Run("EveryProblem", func(t *testing.T) {
		_, errs := subscribers.Input{Email: "nope", Name: "x\ny", Regions: []string{"DE-XX", "DE-BY", "Bayern"},
			Topics: []string{"ki"}, Cadence: "monthly"}.Validate(set)
		var got []string
		for _, e := range errs {
			got = append(got, e.Field+"="+e.Value)
		}
		want := []string{"email=nope", "name=x\ny", "regions=DE-XX", "regions=Bayern", "topics=ki", "cadence=monthly"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("problems %q, want %q", got, want)
		}
		msg := errs[2].Error()
		if !strings.Contains(msg, `field "regions" value "DE-XX": unknown region; use one of DE, DE-BY, DE-HE, DE-TH`) {
			t.Fatalf("region message %q does not name the value and the valid codes", msg)
		}
		if !strings.Contains(errs[4].Error(), "use one of it-sicherheit, open-source") {
			t.Fatalf("topic message %q does not list the valid slugs", errs[4].Error())
		}
	})
}
