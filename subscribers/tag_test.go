package subscribers

import (
	"strings"
	"testing"
)

func TestTag(t *testing.T) {
	old, _ := NewSigner("old-secret-0123456789abcdef")
	s, _ := NewSigner("new:new-secret-0123456789abcdef,0:old-secret-0123456789abcdef")
	tag := s.Tag("verp", "r1.d2")
	if len(tag) != TagLen || strings.Trim(tag, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Fatalf("tag %q is not %d base32 characters", tag, TagLen)
	}
	if !s.CheckTag("verp", "r1.d2", tag) || !s.CheckTag("verp", "r1.d2", strings.ToUpper(tag)) {
		t.Error("own tag rejected")
	}
	if !s.CheckTag("verp", "r1.d2", old.Tag("verp", "r1.d2")) {
		t.Error("tag of the old key rejected after rotation")
	}
	for _, bad := range []struct{ label, data, tag string }{
		{"verp", "r1.d3", tag}, {"other", "r1.d2", tag}, {"verp", "r1.d2", "aaaaaaaa"}, {"verp", "r1.d2", ""},
	} {
		if s.CheckTag(bad.label, bad.data, bad.tag) {
			t.Errorf("CheckTag(%q, %q, %q) accepted", bad.label, bad.data, bad.tag)
		}
	}
}

func TestUnsubscribeMailto(t *testing.T) {
	s, _ := NewSigner("k1:secret-0123456789abcdef")
	l := Links{Signer: s, Base: "https://x.example", Mailto: "redaktion@kommune21.example"}
	mt := l.UnsubscribeMailto(7, "anna@example.org")
	prefix := "mailto:redaktion@kommune21.example?subject=Abmelden%20"
	if !strings.HasPrefix(mt, prefix) {
		t.Fatalf("mailto %q", mt)
	}
	c, err := s.Verify(strings.TrimPrefix(mt, prefix), PurposeUnsubscribe)
	if err != nil || c.ID != 7 || !c.Matches("anna@example.org") {
		t.Errorf("token in the mailto: %+v %v", c, err)
	}
	if (Links{Signer: s}).UnsubscribeMailto(7, "a@b.example") != "" {
		t.Error("mailto without an address")
	}
}
