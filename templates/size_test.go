package templates

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// bigDigest is a full digest at the default cap: 30 articles with teasers at
// the length limit, long titles and URLs, several regions and topics each.
func bigDigest(n int) Digest {
	seed := seedArticles()
	at := time.Date(2026, 2, 19, 7, 0, 0, 0, berlin)
	d := Digest{Cadence: "weekly", Edition: "2026-W08", At: at, More: 17,
		Regions: []Named{rDE, rBY, rHE, rTH}, Topics: []Named{tRegister, tCloud, tSec}}
	long := strings.Repeat("Die Kommune digitalisiert ihre Verwaltungsleistungen Schritt für Schritt und berichtet über Erfahrungen. ", 10)
	for i := range n {
		a := seed[i%len(seed)]
		a.ID = int64(60000 + i)
		a.Title = a.Title + " – und was Kommunen in Hessen, Thüringen und Bayern daraus lernen können"
		a.URL = a.URL + "?utm_source=newsletter&utm_medium=email&id=" + strings.Repeat("x", 40)
		a.Teaser = long
		a.Regions = []Named{rBY, rHE, rTH}
		a.Topics = []Named{[]Named{tRegister, tCloud, tSec, tSmart}[i%4], tOZG}
		a.PublishedAt = at.Add(-time.Duration(i) * 6 * time.Hour)
		d.Articles = append(d.Articles, a)
	}
	return d
}

func TestRender_SizeUnderGmailClip(t *testing.T) {
	s := mustNew(t)
	p := mustPrepare(t, s, bigDigest(30))
	var h, x bytes.Buffer
	p.Render(goldenRecipient(), &h, &x)
	t.Logf("30 articles: HTML %d bytes, text %d bytes", h.Len(), x.Len())
	// Gmail clips HTML above 102 KB; keep a wide margin for the MIME
	// encoding overhead and the portal's future teasers.
	const limit = 80 * 1024
	if h.Len() > limit {
		t.Errorf("HTML part is %d bytes, want at most %d (Gmail clips at 102 KB)", h.Len(), limit)
	}
	if n := strings.Count(h.String(), "mehr…"); n != 30 {
		t.Errorf("want 30 items with a mehr… link, got %d (teasers must be cut, not items)", n)
	}
}

func TestFeedTeaser(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Kurzer Text. mehr...", "Kurzer Text."},
		{"Kurzer Text. mehr…", "Kurzer Text."},
		{"Kurzer Text. [mehr]", "Kurzer Text."},
		{"Zeile eins\r\nZeile zwei\t\tEnde", "Zeile eins Zeile zwei Ende"},
		{"Tom &amp; Jerry &#8211; &quot;Film&quot;", "Tom & Jerry – \"Film\""},
		{"Bidi \u202eevil\u202c", "Bidi evil"},
		{"Nimmt mehr Geld in die Hand", "Nimmt mehr Geld in die Hand"},
	}
	for _, tt := range tests {
		if got := feedTeaser(tt.in); got != tt.want {
			t.Errorf("feedTeaser(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := feedTeaser(strings.Repeat("Wort ", 500))
	if n := len([]rune(long)); n > maxTeaserRunes || !strings.HasSuffix(long, "Wort…") {
		t.Errorf("a long teaser is cut at a word to %d runes ending in …, got %d runes ending %q", maxTeaserRunes, n, long[len(long)-10:])
	}
}

func TestWrapText(t *testing.T) {
	in := "Sie erhalten diese E-Mail, weil Sie den Wochenüberblick für Hessen und Thüringen zu den Themen IT-Sicherheit und Smart City abonniert haben. https://www.kommune21.de/ein/sehr/langer/pfad/der/nicht/umbrochen/werden/darf.html"
	got := wrapText(in, 72)
	for _, line := range strings.Split(got, "\n") {
		if n := len([]rune(line)); n > 72 && strings.Contains(line, " ") {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
	if strings.Join(strings.Fields(got), " ") != in {
		t.Error("wrapping changed the words")
	}
	if !strings.Contains(got, "\nhttps://www.kommune21.de/ein/sehr/langer/pfad/der/nicht/umbrochen/werden/darf.html") {
		t.Error("a long URL must stay whole on its own line")
	}
}
