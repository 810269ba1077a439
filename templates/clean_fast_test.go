package templates

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
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

// wrapTextFields is wrapText as it was written first, over strings.Fields:
// the reference for the version that cuts the words itself.
func wrapTextFields(s string, width int) string {
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(s) {
		n := utf8.RuneCountInString(w)
		switch {
		case col == 0:
		case col+1+n > width:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += n
	}
	return b.String()
}

func TestWrapText_MatchesFields(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		a, b := cleanSamples[r.IntN(len(cleanSamples))], randText(r, r.IntN(30))
		s := a[:r.IntN(len(a)+1)] + " " + b + "\u00a0\u2028\t" + a
		for _, w := range []int{10, 72} {
			if got, want := wrapText(s, w), wrapTextFields(s, w); got != want {
				t.Fatalf("wrapText(%q, %d) = %q, want %q", s, w, got, want)
			}
		}
	}
}
