package subscribers

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

const (
	testKey    = "0123456789abcdef0123"
	testKeyOld = "fedcba9876543210fedc"
)

func mustSigner(tb testing.TB, secret string) *Signer {
	tb.Helper()
	s, err := NewSigner(secret)
	if err != nil {
		tb.Fatalf("NewSigner: %v", err)
	}
	return s
}

func TestNewSigner(t *testing.T) {
	for _, tc := range []struct {
		name, secret, kid string
	}{
		{"OK/single", testKey, DefaultKeyID},
		{"OK/singleWithColon", "k2:" + testKey, DefaultKeyID}, // a single value is the whole key
		{"OK/idLikePrefix", "0123456789abcdef:x", DefaultKeyID},
		{"OK/rotation", "new:" + testKey + ", old:" + testKeyOld, "new"},
		{"OK/rotationKeyWithColon", "k2:" + testKey + ",0:k1:" + testKeyOld, "k2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSigner(tc.secret)
			if err != nil {
				t.Fatalf("NewSigner: %v", err)
			}
			if s.KeyID() != tc.kid {
				t.Errorf("KeyID = %q, want %q", s.KeyID(), tc.kid)
			}
		})
	}
	for _, tc := range []struct{ name, secret, want string }{
		{"ErrEmpty", "  ", "empty"},
		{"ErrShort", "short-secret", "need at least 16"},
		{"ErrShortInList", "a:" + testKey + ",b:tooshort-secret", "entry 2"},
		{"ErrBadID", "bad id:" + testKey + ",b:" + testKeyOld, "entry 1: the list form"},
		{"ErrUpperCaseID", "K1:" + testKey + ",b:" + testKeyOld, "entry 1: the list form"},
		{"ErrLongID", "abcdefghi:" + testKey + ",b:" + testKeyOld, "entry 1: the list form"},
		{"ErrNoIDInList", testKey + "," + testKeyOld, "entry 1: the list form"},
		{"ErrEmptyEntry", "a:" + testKey + ",", "entry 2"},
		{"ErrDuplicateID", "a:" + testKey + ",a:" + testKeyOld, "same key id as entry 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSigner(tc.secret)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewSigner(%q) error = %v, want it to mention %q", tc.secret, err, tc.want)
			}
			for _, key := range []string{testKey, testKeyOld, "tooshort-secret", "short-secret"} {
				if strings.Contains(err.Error(), key) {
					t.Errorf("error %q shows the key", err)
				}
			}
		})
	}
}

func TestSigner_Verify(t *testing.T) {
	s := mustSigner(t, "k1:"+testKey+",k9:"+testKeyOld)
	const email = "Anna.Beispiel@Example.org"
	tok := s.Token(PurposeUnsubscribe, 42, email)

	t.Run("OK", func(t *testing.T) {
		c, err := s.Verify(tok, PurposeUnsubscribe)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if c.ID != 42 || c.Purpose != PurposeUnsubscribe || c.KeyID != "k1" {
			t.Errorf("claims = %+v", c)
		}
		if !c.Matches(email) || !c.Matches(" anna.beispiel@example.ORG ") {
			t.Error("Matches(own address) = false")
		}
		if c.Matches("other@example.org") {
			t.Error("Matches(other address) = true")
		}
	})
	t.Run("MatchesNonASCII", func(t *testing.T) {
		c, err := s.Verify(s.Token(PurposeConfirm, 9, "Jörg.Müller@Straße.example"), PurposeConfirm)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Matches("jÖrg.mÜller@straße.EXAMPLE") || c.Matches("jorg.muller@strasse.example") {
			t.Error("non-ASCII address matching is not case-insensitive or too loose")
		}
	})
	t.Run("NoEmailInToken", func(t *testing.T) {
		if strings.Contains(strings.ToLower(tok), "anna") || strings.Contains(tok, "@") {
			t.Errorf("token %q shows the address", tok)
		}
	})
	t.Run("Deterministic", func(t *testing.T) {
		if s.Token(PurposeUnsubscribe, 42, email) != tok {
			t.Error("same input gave a different token")
		}
	})
	t.Run("ErrOtherPurpose", func(t *testing.T) {
		for _, p := range []Purpose{PurposeConfirm, PurposePreferences} {
			if _, err := s.Verify(tok, p); !errors.Is(err, ErrTokenPurpose) {
				t.Errorf("Verify(unsubscribe token, %s) = %v, want ErrTokenPurpose", p, err)
			}
		}
	})
	t.Run("ErrUnknownPurpose", func(t *testing.T) {
		if _, err := s.Verify(tok, Purpose("admin")); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("err = %v, want ErrTokenInvalid", err)
		}
	})
	bad := map[string]string{
		"empty":       "",
		"noDot":       strings.Replace(tok, ".", "", 1),
		"truncated":   tok[:len(tok)-1],
		"truncated4":  tok[:len(tok)-4],
		"extended":    tok + "A",
		"newline":     tok[:10] + "\n" + tok[10:],
		"otherKeyID":  "k2" + tok[2:],
		"noKeyID":     tok[2:],
		"flippedLast": tok[:len(tok)-1] + flip(tok[len(tok)-1]),
		"flippedMid":  tok[:12] + flip(tok[12]) + tok[13:],
		"otherKey":    mustSigner(t, "k1:"+testKeyOld+",k9:"+testKey).Token(PurposeUnsubscribe, 42, email),
		"padded":      tok + "==",
		"std64":       strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+",
	}
	for name, b := range bad {
		t.Run("ErrInvalid/"+name, func(t *testing.T) {
			if b == tok {
				t.Fatalf("test token equals the good one")
			}
			if c, err := s.Verify(b, PurposeUnsubscribe); !errors.Is(err, ErrTokenInvalid) {
				t.Errorf("Verify(%q) = %+v, %v; want ErrTokenInvalid", b, c, err)
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestSigner_Rotation(t *testing.T) {
	old := mustSigner(t, testKeyOld) // id DefaultKeyID
	rotated := mustSigner(t, "1:"+testKey+",0:"+testKeyOld)
	oldTok := old.Token(PurposePreferences, 7, "a@example.org")
	c, err := rotated.Verify(oldTok, PurposePreferences)
	if err != nil {
		t.Fatalf("rotated signer rejects a token of the old key: %v", err)
	}
	if c.KeyID != "0" || !c.Matches("a@example.org") {
		t.Errorf("claims = %+v", c)
	}
	newTok := rotated.Token(PurposePreferences, 7, "a@example.org")
	if !strings.HasPrefix(newTok, "1.") {
		t.Errorf("new token %q not signed by the first key", newTok)
	}
	if _, err := old.Verify(newTok, PurposePreferences); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("old signer accepts a token of a key it does not have: %v", err)
	}
	// Same key under another id is another key: the id is signed.
	renamed := mustSigner(t, "9:"+testKeyOld+",8:"+testKey)
	if _, err := renamed.Verify("9"+oldTok[1:], PurposePreferences); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("key id swap verified: %v", err)
	}
}

// TestNewSigner_SingleValueIsWholeKey: a single DIGEST_SECRET containing ':'
// is one key; no part of it appears in a token (it used to be split and its
// first part published as the key id).
func TestNewSigner_SingleValueIsWholeKey(t *testing.T) {
	const secret = "Passw0rdPart1:rest-of-the-secret"
	s := mustSigner(t, secret)
	tok := s.Token(PurposeUnsubscribe, 42, "a@example.org")
	if s.KeyID() != DefaultKeyID || !strings.HasPrefix(tok, DefaultKeyID+".") || strings.Contains(tok, "Passw0rd") {
		t.Fatalf("KeyID %q, token %q: want key id %q and no part of the secret", s.KeyID(), tok, DefaultKeyID)
	}
	// The whole value signs: the part after ':' alone does not verify it.
	if _, err := mustSigner(t, "rest-of-the-secret").Verify(tok, PurposeUnsubscribe); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("the part after ':' verifies a new token: %v", err)
	}
	// Links signed by earlier versions (key "rest-of-the-secret", id
	// "Passw0rdPart1") keep working.
	legacy := &Signer{keys: []*signingKey{newKey("Passw0rdPart1", "rest-of-the-secret")}}
	old := legacy.Token(PurposeUnsubscribe, 42, "a@example.org")
	if c, err := s.Verify(old, PurposeUnsubscribe); err != nil || c.ID != 42 || !c.Matches("a@example.org") {
		t.Errorf("link of an earlier version: %+v, %v", c, err)
	}
	// "0:KEY" as a single value: the whole value and the legacy reading share id 0.
	zero := mustSigner(t, "0:"+testKey)
	oldZero := (&Signer{keys: []*signingKey{newKey("0", testKey)}}).Token(PurposeConfirm, 5, "b@example.org")
	if _, err := zero.Verify(oldZero, PurposeConfirm); err != nil {
		t.Errorf("legacy 0:KEY link: %v", err)
	}
	if _, err := zero.Verify(zero.Token(PurposeConfirm, 5, "b@example.org"), PurposeConfirm); err != nil {
		t.Errorf("new link: %v", err)
	}
	// Rotating away from a single value keeps its links: NEWID:NEWKEY,0:OLDVALUE.
	rotated := mustSigner(t, "k2:"+testKeyOld+",0:"+secret)
	if _, err := rotated.Verify(tok, PurposeUnsubscribe); err != nil {
		t.Errorf("rotated signer rejects the single value's link: %v", err)
	}
}

func TestSigner_URL(t *testing.T) {
	s := mustSigner(t, testKey)
	for _, base := range []string{"https://digest.example.org", "https://digest.example.org/"} {
		u := s.URL(base, PurposeConfirm, 1234567, "x@example.org")
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatalf("URL %q: %v", u, err)
		}
		if pu.Scheme != "https" || pu.Host != "digest.example.org" || pu.Path != "/confirm" {
			t.Errorf("URL = %q", u)
		}
		tok := pu.Query().Get("t")
		if tok != s.Token(PurposeConfirm, 1234567, "x@example.org") || pu.RawQuery != "t="+tok {
			t.Errorf("URL %q token %q", u, tok)
		}
		c, err := s.Verify(tok, PurposeConfirm)
		if err != nil || c.ID != 1234567 {
			t.Errorf("Verify(URL token) = %+v, %v", c, err)
		}
	}
	if u := s.URL("https://h/base/", PurposeUnsubscribe, 1, "a@b.c"); !strings.HasPrefix(u, "https://h/base/unsubscribe?t=") {
		t.Errorf("URL with path = %q", u)
	}
}

func TestSigner_LargeIDs(t *testing.T) {
	s := mustSigner(t, testKey)
	for _, id := range []int64{1, 127, 128, 1 << 40, 1<<63 - 1} {
		c, err := s.Verify(s.Token(PurposeUnsubscribe, id, "a@b.c"), PurposeUnsubscribe)
		if err != nil || c.ID != id {
			t.Errorf("id %d: %+v, %v", id, c, err)
		}
	}
	// Non-positive ids are never valid subscribers: their tokens don't verify.
	for _, id := range []int64{0, -1} {
		if _, err := s.Verify(s.Token(PurposeUnsubscribe, id, "a@b.c"), PurposeUnsubscribe); err == nil {
			t.Errorf("id %d verified", id)
		}
	}
}

func FuzzVerify(f *testing.F) {
	s := mustSigner(f, "a:"+testKey+",b:"+testKeyOld)
	good := s.Token(PurposeUnsubscribe, 42, "a@example.org")
	f.Add(good)
	f.Add(s.Token(PurposeConfirm, 1, "x@y.z"))
	f.Add("a.")
	f.Add("b.AAAA")
	f.Add("")
	f.Add("a." + strings.Repeat("A", 47))
	f.Fuzz(func(t *testing.T, tok string) {
		for _, p := range []Purpose{PurposeUnsubscribe, PurposeConfirm, PurposePreferences} {
			c, err := s.Verify(tok, p)
			if err != nil {
				if !errors.Is(err, ErrTokenInvalid) && !errors.Is(err, ErrTokenPurpose) {
					t.Fatalf("Verify(%q) unexpected error %v", tok, err)
				}
				continue
			}
			// Only a token the signer itself made verifies: the canonical
			// re-encoding of the claims must reproduce tok exactly.
			if c.ID <= 0 || c.Purpose != p {
				t.Fatalf("Verify(%q) = %+v", tok, c)
			}
			if tok != good && c.ID == 42 && c.Matches("a@example.org") && c.KeyID == "a" && p == PurposeUnsubscribe {
				t.Fatalf("forged token %q verifies as the good one %q", tok, good)
			}
		}
	})
}

func BenchmarkSigner_URL(b *testing.B) {
	s := mustSigner(b, testKey)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = s.URL("https://digest.example.org", PurposeUnsubscribe, int64(i+1), "anna.beispiel@example.org")
	}
}

func BenchmarkSigner_Verify(b *testing.B) {
	s := mustSigner(b, testKey)
	tok := s.Token(PurposeUnsubscribe, 123456, "anna.beispiel@example.org")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok, PurposeUnsubscribe); err != nil {
			b.Fatal(err)
		}
	}
}
