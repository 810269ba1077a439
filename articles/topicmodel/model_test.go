package topicmodel

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestStem(t *testing.T) {
	for in, want := range map[string]string{
		"foerderbescheide": "foerderbescheid",
		"onlinediensten":   "onlinedienst",
		"verwaltungen":     "verwaltung",
		"registerdaten":    "registerdat",
		"ozg":              "ozg",
		"kreis":            "kreis",
		"prozess":          "prozess",
		"dienstes":         "dienst",
	} {
		if got := Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

// Compounds share character n-grams with their parts, inflected forms share
// the stem, and hyphenated words give their parts and the joined word.
func TestFeaturesCompounds(t *testing.T) {
	has := func(text string, f string) bool { return slices.Contains(Features(text), f) }
	for _, c := range []struct{ text, feature string }{
		{"Prozessmodellierungssoftware", "g:proze"},
		{"Registerdaten", "g:regis"},
		{"Onlinedienste", "w:onlinedienst"},
		{"Online-Dienste", "w:onlinedienst"},
		{"Online-Dienste", "w:dienst"},
		{"Förderbescheide", "w:foerderbescheid"},
		{"Förderbescheid", "w:foerderbescheid"},
		{"Das OZG kommt", "A:OZG"},
	} {
		if !has(c.text, c.feature) {
			t.Errorf("Features(%q) = %v, lacks %q", c.text, Features(c.text), c.feature)
		}
	}
	if f := Features("der die das und"); len(f) != 0 {
		t.Errorf("function words give features %v", f)
	}
}

func trainSmall() *Model {
	ex := []Example{
		{"Onlinedienste für Bürger: Antrag online stellen", []string{"ozg"}},
		{"Neuer Onlinedienst: Wohngeld online beantragen", []string{"ozg"}},
		{"Online-Antrag für den Bauantrag startet", []string{"ozg"}},
		{"Hackerangriff legt Verwaltung lahm", []string{"sicherheit"}},
		{"Cyberangriff auf Kreisverwaltung: Hacker fordern Lösegeld", []string{"sicherheit"}},
		{"Hacker greifen Stadtverwaltung an", []string{"sicherheit"}},
	}
	o := DefaultOptions()
	o.MinDF = 1
	return Train(ex, []string{"ozg", "sicherheit"}, o)
}

func TestTrainScores(t *testing.T) {
	m := trainSmall()
	sc := m.Scores("Hacker legen die Stadtverwaltung lahm")
	if sc[0].Topic != "sicherheit" || sc[0].P < 0.5 || sc[1].P >= sc[0].P {
		t.Fatalf("scores %+v: want sicherheit first with P ≥ 0.5", sc)
	}
	if len(sc[0].Evidence) == 0 || !strings.HasPrefix(sc[0].Evidence[0], "hack") {
		t.Errorf("evidence %v: want the word hacker first", sc[0].Evidence)
	}
	if sc := m.Scores("Neue Onlinedienste"); sc[0].Topic != "ozg" {
		t.Errorf("scores %+v: want ozg first", sc)
	}
}

func TestWriteParseRoundTrip(t *testing.T) {
	m := trainSmall()
	m.Header = []string{"test model"}
	var a bytes.Buffer
	if err := m.Write(&a); err != nil {
		t.Fatal(err)
	}
	p, err := Parse(a.String(), "topics.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	p.Write(&b)
	if a.String() != b.String() {
		t.Fatalf("parsed model writes differently:\n%s\n---\n%s", a.String(), b.String())
	}
	// training is deterministic
	var c bytes.Buffer
	again := trainSmall()
	again.Header = m.Header
	again.Write(&c)
	if a.String() != c.String() {
		t.Fatal("two trainings on the same examples give different models")
	}
	x, y := m.Scores("Hacker und Onlinedienste"), p.Scores("Hacker und Onlinedienste")
	for i := range x {
		if x[i].Topic != y[i].Topic || x[i].P-y[i].P > 1e-9 || y[i].P-x[i].P > 1e-9 {
			t.Fatalf("scores differ after parsing: %+v vs %+v", x, y)
		}
	}
}

func TestParseErrors(t *testing.T) {
	head := "topics\ta b\nthreshold\t0.5\ntopicthreshold\t0 0.3\nbias\t-1 -1\n"
	for _, c := range []struct{ text, want string }{
		{"w:x\t0=1\n", "m.tsv line 1: feature before the topics and bias lines"},
		{head + "w:x\t2=1\n", `m.tsv line 5: weight "2=1" is not topic=number`},
		{head + "w:x\t0=abc\n", `m.tsv line 5: weight "0=abc"`},
		{"topics\ta b\nthreshold\t1.5\n", "m.tsv line 2: threshold not a number between 0 and 1"},
		{"topics\ta b\nthreshold\t0.5\nbias\t1\n", "m.tsv line 3: 1 biases for 2 topics"},
		{"topics\ta b\ntopicthreshold\t0\n", "m.tsv line 2: 1 topic thresholds for 2 topics"},
		{"topics a b\n", "m.tsv line 1: no tab"},
		{"# only a comment\n", "m.tsv: missing topics, threshold or bias line"},
	} {
		_, err := Parse(c.text, "m.tsv")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "make train") {
			t.Errorf("Parse(%q) = %v, want an error containing %q and saying to run make train", c.text, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	var b bytes.Buffer
	trainSmall().Write(&b)
	f.Add(b.String())
	f.Add("topics\ta\nthreshold\t0.5\nbias\t0\nw:x\t0=1e308\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := Parse(text, "fuzz.tsv")
		if err != nil {
			return
		}
		for _, s := range m.Scores("Onlinedienste Hacker " + text) {
			if s.P < 0 || s.P > 1 || s.P != s.P {
				t.Fatalf("probability %v out of range", s.P)
			}
		}
	})
}

func BenchmarkScores(b *testing.B) {
	m := trainSmall()
	for b.Loop() {
		m.Scores("Kommunaler IT-Dienstleister: Neue Onlinedienste für Bürgerinnen und Bürger nach dem Hackerangriff auf die Kreisverwaltung")
	}
}
