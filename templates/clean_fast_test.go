package templates

import (
	"math/rand/v2"
	"testing"
)

// cleanSamples are lines and URLs whose cleaning the fast paths must get
// exactly right: each is also cut and recombined at random below.
var cleanSamples = []string{
	"Jürgen Müller", " Jürgen", "Jürgen ", "Jürgen  Müller", "Jürgen\tMüller", "a\u00a0b", "a\u2028b", "x\u202ey",
	"\ufeffBOM", "\uFFFD", "\xff", "", " ", "Zeile\r\nBcc: x", "ok", "a\x00b", "\u200e",
	"https://digest.kommune21.example/u?t=AbC-_123&x=1", "http://x", "https://", "http:///a", "https://a b/",
	"HTTPS://x.example/", "https://x.example:8080/", "https://[::1]/", "https://x.example/%zz", "https://x.example/%41",
	"https://user@x.example/", "https://x.example/a#b#c", "https://x.example/<a>", "https://x.example/'", "javascript:x",
	"https://x.example?q", "https://x.example#f", "https://.../", "https://x_y.example/", "https://x.example/a b",
	"https://x.example/\u00e4", "ftp://x.example/", "https://x.example/a:b@c;d=e,f+g(h)!$*~_",
}

func checkCleanFast(t *testing.T, s string) {
	t.Helper()
	for _, max := range []int{3, 100, 2000} {
		if got, want := cleanLine(s, max), cleanLineSlow(s, max); got != want {
			t.Errorf("cleanLine(%q, %d) = %q, cleanLineSlow gives %q", s, max, got, want)
		}
	}
	if got, want := webURL(s), webURLSlow(s); got != want {
		t.Errorf("webURL(%q) = %q, webURLSlow gives %q", s, got, want)
	}
}

func TestCleanFastPaths_MatchSlow(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range cleanSamples {
		checkCleanFast(t, s)
	}
	for range 20000 {
		a, b := cleanSamples[r.IntN(len(cleanSamples))], cleanSamples[r.IntN(len(cleanSamples))]
		checkCleanFast(t, a[:r.IntN(len(a)+1)]+b[r.IntN(len(b)+1):])
	}
	// The fast paths are taken where they should be (else this test
	// would pass with them switched off).
	if !lineIsClean("Jürgen Müller") || !urlIsPlain("https://digest.kommune21.example/u?t=AbC-_123&x=1") {
		t.Error("fast path not taken for a plain name or link")
	}
}

func FuzzCleanFastPaths(f *testing.F) {
	for _, s := range cleanSamples {
		f.Add(s)
	}
	f.Fuzz(checkCleanFast)
}
