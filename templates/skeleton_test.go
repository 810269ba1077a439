package templates

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostileWords are feed and choice texts that escaping and cleaning must
// handle: markup, quotes, "+", NUL, line breaks, umlauts, long words.
var hostileWords = []string{
	"<script>alert(1)</script>", `"quoted" & 'single'`, "a+b", "x\x00y", "Zeile\r\nBcc: x@y",
	"Müller-Lüdenscheidt", "Straße", "", " ", "Donaudampfschifffahrtsgesellschaftskapitänsmütze",
	"https://example.org/?a=1&b=<2>", "javascript:alert(1)", "IT-Sicherheit", "\u2028", "<b>fett</b>",
}

func randText(r *rand.Rand, words int) string {
	var b strings.Builder
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(hostileWords[r.IntN(len(hostileWords))])
	}
	return b.String()
}

// randDigest is a digest of random shape and hostile content.
func randDigest(r *rand.Rand) Digest {
	topics := []Named{{"it-sicherheit", "IT-Sicherheit"}, {"smart-city", "Smart City"}, {"x", randText(r, 2)}, {"egov", "E-Government"}}
	regions := []Named{{"DE", "Bundesweit"}, {"DE-TH", "Thüringen"}, {"DE-BY", randText(r, 1)}, {"DE-HH", "Hamburg"}}
	d := Digest{Cadence: "weekly", Edition: fmt.Sprintf("2026-W%02d", 1+r.IntN(52)), More: r.IntN(3) * r.IntN(40)}
	if r.IntN(3) == 0 {
		d.Cadence, d.Edition = "daily", "2026-02-"+strconv.Itoa(10+r.IntN(18))
	}
	if r.IntN(2) == 0 {
		d.At = time.Date(2026, 2, 1+r.IntN(27), 7, 0, 0, 0, berlin)
	}
	if r.IntN(2) == 0 {
		d.ArchiveURL = []string{"https://example.org/a?t=1&u=2", "https://example.org/ä ö\"<>'+", "javascript:x", "http://x"}[r.IntN(4)]
	}
	for _, t := range topics {
		if r.IntN(2) == 0 {
			d.Topics = append(d.Topics, t)
		}
	}
	for _, g := range regions {
		if r.IntN(3) == 0 {
			d.Regions = append(d.Regions, g)
		}
	}
	for i := range 1 + r.IntN(25) {
		a := Article{ID: int64(r.IntN(60)), URL: []string{"https://example.org/" + strconv.Itoa(i), "", "javascript:x", "https://example.org/?q=<&>"}[r.IntN(4)],
			Kicker: randText(r, r.IntN(2)), Title: randText(r, r.IntN(5)), Teaser: randText(r, r.IntN(40))}
		if r.IntN(2) == 0 {
			a.PublishedAt = time.Date(2026, 2, 1+r.IntN(27), r.IntN(24), 0, 0, 0, time.UTC)
		}
		for range r.IntN(3) {
			a.Topics = append(a.Topics, topics[r.IntN(len(topics))])
			a.Regions = append(a.Regions, regions[r.IntN(len(regions))])
		}
		d.Articles = append(d.Articles, a)
	}
	return d
}

// TestPrepare_SkeletonMatchesTemplate holds the assembled digest to the
// template's output byte for byte, over random shapes and hostile content.
func TestPrepare_SkeletonMatchesTemplate(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 34))
	checkPrepareMatchesTemplate(t, mustNew(t), func() Digest { return randDigest(r) })
}

// TestPrepare_SharedChoicesMatchTemplate does the same over digests that
// share choices, editions and counts (their wording, skeletons and
// fragments come from the caches) but differ in articles, browser links
// and groups.
func TestPrepare_SharedChoicesMatchTemplate(t *testing.T) {
	r := rand.New(rand.NewPCG(56, 78))
	checkPrepareMatchesTemplate(t, mustNew(t), func() Digest {
		d := randDigest(r)
		d.Cadence, d.Edition = "weekly", []string{"2026-W08", "2026-W09"}[r.IntN(2)]
		d.At = []time.Time{{}, time.Date(2026, 2, 23, 7, 0, 0, 0, berlin)}[r.IntN(2)]
		d.More = []int{0, 3}[r.IntN(2)]
		d.Articles = d.Articles[:min(len(d.Articles), 1+r.IntN(3))]
		d.Topics = []Named{{"it-sicherheit", "IT-Sicherheit"}, {"smart-city", "Smart City"}}[:r.IntN(3)]
		d.Regions = []Named{{"DE-TH", "Thüringen"}, {"DE", "Bundesweit"}}[:r.IntN(3)]
		return d
	})
}

func checkPrepareMatchesTemplate(t *testing.T, s *Set, next func() Digest) {
	t.Helper()
	rcp := Recipient{Name: "Jürgen <b>&</b>\r\nBcc: x", Email: "a+b@example.org", UnsubscribeURL: "https://x.example/u?t=1&b=2", PreferencesURL: "javascript:alert(1)"}
	for i := range 3000 {
		d := next()
		got, err := s.Prepare(d)
		if err != nil {
			t.Fatalf("digest %d: Prepare: %v", i, err)
		}
		want, err := s.prepareByTemplate(d)
		if err != nil {
			t.Fatalf("digest %d: prepareByTemplate: %v", i, err)
		}
		var gh, gt, wh, wt bytes.Buffer
		got.Render(rcp, &gh, &gt)
		want.Render(rcp, &wh, &wt)
		if got.Subject() != want.Subject() {
			t.Fatalf("digest %d: subject %q, template %q", i, got.Subject(), want.Subject())
		}
		if !bytes.Equal(gh.Bytes(), wh.Bytes()) {
			t.Fatalf("digest %d %+v: HTML differs from the template's\n%s", i, d, firstDiff(wh.Bytes(), gh.Bytes()))
		}
		if !bytes.Equal(gt.Bytes(), wt.Bytes()) {
			t.Fatalf("digest %d: text differs from the template's\n%s", i, firstDiff(wt.Bytes(), gt.Bytes()))
		}
	}
}

var escapeRef = htmltemplate.Must(htmltemplate.New("e").Parse(`<p title="{{.}}">{{.}}</p>`))

func checkEscape(t *testing.T, in string) {
	t.Helper()
	var b strings.Builder
	if err := escapeRef.Execute(&b, in); err != nil {
		t.Fatal(err)
	}
	e := htmlEscape(in)
	if want := `<p title="` + e + `">` + e + `</p>`; b.String() != want {
		t.Errorf("htmlEscape(%q) = %q; html/template gives %q", in, e, b.String())
	}
}

func TestHTMLEscape_MatchesHTMLTemplate(t *testing.T) {
	for _, w := range hostileWords {
		checkEscape(t, w)
	}
	checkEscape(t, "\xff\xfe invalid UTF-8 \uFDD0 \uFFFE")
}

func FuzzHTMLEscape(f *testing.F) {
	for _, w := range hostileWords {
		f.Add(w)
	}
	f.Fuzz(checkEscape)
}
