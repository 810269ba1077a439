package templates

import (
	"strings"
	"testing"
	"time"
)

func TestGermanDate(t *testing.T) {
	months := []string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
	for i, m := range months {
		d := time.Date(2026, time.Month(i+1), 15, 12, 0, 0, 0, time.UTC)
		if got, want := GermanDate(d), "15. "+m+" 2026"; got != want {
			t.Errorf("GermanDate(%v) = %q, want %q", d, got, want)
		}
	}
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"winter: 23:30 UTC is already the next day in Berlin (UTC+1)", time.Date(2026, 2, 18, 23, 30, 0, 0, time.UTC), "19. Februar 2026"},
		{"winter: 22:59 UTC is still the same day", time.Date(2026, 2, 18, 22, 59, 0, 0, time.UTC), "18. Februar 2026"},
		{"summer: 22:00 UTC is midnight in Berlin (UTC+2)", time.Date(2026, 7, 31, 22, 0, 0, 0, time.UTC), "1. August 2026"},
		{"summer: 21:59 UTC is still the same day", time.Date(2026, 7, 31, 21, 59, 0, 0, time.UTC), "31. Juli 2026"},
		{"new year's eve", time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC), "1. Januar 2026"},
		{"another zone", time.Date(2026, 3, 1, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), "2. März 2026"},
	}
	for _, tt := range tests {
		if got := GermanDate(tt.in); got != tt.want {
			t.Errorf("%s: GermanDate(%v) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestGermanList(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"Hessen"}, "Hessen"},
		{[]string{"Hessen", "Thüringen"}, "Hessen und Thüringen"},
		{[]string{"Bayern", "Hessen", "Thüringen"}, "Bayern, Hessen und Thüringen"},
	}
	for _, tt := range tests {
		if got := germanList(tt.in); got != tt.want {
			t.Errorf("germanList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCounts(t *testing.T) {
	for n, want := range map[int]string{0: "0 neue Artikel", 1: "1 neuer Artikel", 2: "2 neue Artikel", 31: "31 neue Artikel"} {
		if got := articleCount(n); got != want {
			t.Errorf("articleCount(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{1: "1 weiterer Artikel", 3: "3 weitere Artikel"} {
		if got := moreCount(n); got != want {
			t.Errorf("moreCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRegionPhrases(t *testing.T) {
	var all []Named
	for _, n := range []string{"Baden-Württemberg", "Bayern", "Berlin", "Brandenburg", "Bremen", "Hamburg", "Hessen", "Mecklenburg-Vorpommern", "Niedersachsen", "Nordrhein-Westfalen", "Rheinland-Pfalz", "Saarland", "Sachsen", "Sachsen-Anhalt", "Schleswig-Holstein", "Thüringen"} {
		all = append(all, Named{"DE-" + n[:2], n})
	}
	tests := []struct {
		name        string
		in          []Named
		phrase, why string
	}{
		{"all regions", nil, "", "alle Länder"},
		{"one Land", []Named{rTH}, "aus Thüringen", "Thüringen"},
		{"two, sorted by name", []Named{rTH, rHE}, "aus Hessen und Thüringen", "Hessen und Thüringen"},
		{"three", []Named{rTH, rBY, rHE}, "aus Bayern, Hessen und Thüringen", "Bayern, Hessen und Thüringen"},
		{"umlaut sorts as its base letter", []Named{rBY, rBW}, "aus Baden-Württemberg und Bayern", "Baden-Württemberg und Bayern"},
		{"four", []Named{rTH, rBY, rHE, rNI}, "aus 4 Ländern", "Bayern, Hessen, Niedersachsen und Thüringen"},
		{"nationwide only", []Named{rDE}, "bundesweit", "bundesweite Meldungen"},
		{"Land and nationwide", []Named{rDE, rTH}, "aus Thüringen sowie bundesweit", "Thüringen und bundesweite Meldungen"},
		{"many and nationwide", []Named{rDE, rTH, rBY, rHE, rNI, rST}, "aus 5 Ländern sowie bundesweit", "Bayern, Hessen, Niedersachsen, Sachsen-Anhalt, Thüringen und bundesweite Meldungen"},
		{"all sixteen", all, "aus allen Ländern", strings.Join(namesOf(all[:15]), ", ") + " und Thüringen"},
	}
	for _, tt := range tests {
		if got := regionPhrase(tt.in); got != tt.phrase {
			t.Errorf("%s: regionPhrase = %q, want %q", tt.name, got, tt.phrase)
		}
		if got := regionChoice(tt.in); got != tt.why {
			t.Errorf("%s: regionChoice = %q, want %q", tt.name, got, tt.why)
		}
	}
}

func namesOf(ns []Named) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Name)
	}
	return out
}

func TestTopicChoice(t *testing.T) {
	tests := []struct {
		in   []Named
		want string
	}{
		{nil, "zu allen Themen"},
		{[]Named{tSec}, "zum Thema IT-Sicherheit"},
		{[]Named{tSec, tSmart}, "zu den Themen IT-Sicherheit und Smart City"},
		{[]Named{tSec, tSmart, tOZG}, "zu den Themen IT-Sicherheit, Smart City und OZG & Onlinedienste"},
	}
	for _, tt := range tests {
		if got := topicChoice(tt.in); got != tt.want {
			t.Errorf("topicChoice(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrepared_Subject(t *testing.T) {
	s := mustNew(t)
	arts := seedArticles()
	tests := []struct {
		name string
		d    Digest
		want string
	}{
		{"weekly, seven, one Land",
			Digest{Cadence: "weekly", Edition: "2026-W08", Articles: arts[:7], Regions: []Named{rTH}},
			"Wochenüberblick KW 8: 7 neue Artikel aus Thüringen"},
		{"singular",
			Digest{Cadence: "weekly", Edition: "2026-W08", Articles: arts[:1], Regions: []Named{rTH}},
			"Wochenüberblick KW 8: 1 neuer Artikel aus Thüringen"},
		{"two Länder; the count includes what the cap cut",
			Digest{Cadence: "weekly", Edition: "2026-W08", Articles: arts[:2], More: 3, Regions: []Named{rTH, rHE}},
			"Wochenüberblick KW 8: 5 neue Artikel aus Hessen und Thüringen"},
		{"three Länder",
			Digest{Cadence: "weekly", Edition: "2026-W08", Articles: arts[:2], Regions: []Named{rTH, rHE, rBY}},
			"Wochenüberblick KW 8: 2 neue Artikel aus Bayern, Hessen und Thüringen"},
		{"many Länder",
			Digest{Cadence: "weekly", Edition: "2026-W08", Articles: arts[:2], Regions: []Named{rTH, rHE, rBY, rNI, rST}},
			"Wochenüberblick KW 8: 2 neue Artikel aus 5 Ländern"},
		{"nationwide only",
			Digest{Cadence: "weekly", Edition: "2026-W08", Articles: arts[:2], Regions: []Named{rDE}},
			"Wochenüberblick KW 8: 2 neue Artikel bundesweit"},
		{"all regions: no region phrase; week from the edition, not the run date",
			Digest{Cadence: "weekly", Edition: "2026-W01", At: time.Date(2026, 3, 1, 0, 0, 0, 0, berlin), Articles: arts[:2]},
			"Wochenüberblick KW 1: 2 neue Artikel"},
		{"week 53",
			Digest{Cadence: "weekly", Edition: "2026-W53", Articles: arts[:2]},
			"Wochenüberblick KW 53: 2 neue Artikel"},
		{"daily",
			Digest{Cadence: "daily", Edition: "2026-02-19", Articles: arts[:3], Regions: []Named{rHE}},
			"Tagesüberblick 19. Februar 2026: 3 neue Artikel aus Hessen"},
	}
	for _, tt := range tests {
		p := mustPrepare(t, s, tt.d)
		if got := p.Subject(); got != tt.want {
			t.Errorf("%s: Subject() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSet_Prepare_BadDigest(t *testing.T) {
	s := mustNew(t)
	arts := seedArticles()[:1]
	tests := []struct {
		name string
		d    Digest
		want string
	}{
		{"no articles", Digest{Cadence: "weekly", Edition: "2026-W08"}, "no articles"},
		{"week 54", Digest{Cadence: "weekly", Edition: "2026-W54", Articles: arts}, `"2026-W54"`},
		{"week 53 in a 52-week year", Digest{Cadence: "weekly", Edition: "2025-W53", Articles: arts}, `"2025-W53"`},
		{"date for weekly", Digest{Cadence: "weekly", Edition: "2026-02-19", Articles: arts}, "ISO week"},
		{"week for daily", Digest{Cadence: "daily", Edition: "2026-W08", Articles: arts}, "2026-02-19"},
		{"unknown cadence", Digest{Cadence: "monthly", Edition: "2026-02", Articles: arts}, `"monthly"`},
		{"negative more", Digest{Cadence: "weekly", Edition: "2026-W08", Articles: arts, More: -1}, "more -1"},
	}
	for _, tt := range tests {
		_, err := s.Prepare(tt.d)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Prepare error = %v, want one containing %s", tt.name, err, tt.want)
		}
	}
	if _, err := s.Prepare(Digest{Cadence: "weekly", Edition: "2026-W08"}); err != ErrNoArticles {
		t.Errorf("empty digest: err = %v, want ErrNoArticles", err)
	}
}
