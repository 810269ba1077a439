package articles

import (
	"slices"
	"strings"
	"testing"

	"github.com/kommune21/digest/articles/topicmodel"
)

// Every article gets a topic: when no rule matches and no model score reaches
// the threshold, the model's best guess is taken and flagged as a doubt, so
// `digest articles review` lists it.
func TestTopics_FallbackIsFlagged(t *testing.T) {
	tg := mustTagger(t)
	ex := tg.Explain(Text{Kicker: "Gera", Title: "Neues Ratsinformationssystem", Teaser: "Die Stadt stellt es vor."})
	if len(ex.Topics) != 1 || len(ex.Tags.Topics) != 1 || ex.Topics[0].From != "fallback" || !strings.HasPrefix(ex.Topics[0].Evidence, "model 0.") {
		t.Fatalf("topics %v, reasons %+v: want one fallback topic with its model score", ex.Tags.Topics, ex.Topics)
	}
	if !slices.ContainsFunc(ex.Doubts, func(d string) bool {
		return strings.HasPrefix(d, "no topic: no rule matched and no model score reached") && strings.Contains(d, ex.Tags.Topics[0])
	}) {
		t.Errorf("doubts %q: want the fallback named", ex.Doubts)
	}
	// without a model the article has no topic and says so
	ex = tg.WithModel(nil).Explain(Text{Kicker: "Gera", Title: "Neues Ratsinformationssystem"})
	if len(ex.Tags.Topics) != 0 || !slices.Contains(ex.Doubts, "no topic: no rule matched") {
		t.Errorf("rules only: topics %v, doubts %q", ex.Tags.Topics, ex.Doubts)
	}
}

// The model finds topics no rule names, and Explain shows its score and words;
// rule hits show the model's score beside the term.
func TestTopics_ModelAndRuleReasons(t *testing.T) {
	tg := mustTagger(t)
	x := Text{Kicker: "Jena", Title: "Digitale Bauanträge", Teaser: "Bauanträge können jetzt online gestellt werden."}
	if got := tg.WithModel(nil).Tag(x).Topics; slices.Contains(got, "ozg-onlinedienste") {
		t.Fatalf("rules alone already give %v; the test needs an item only the model finds", got)
	}
	ex := tg.Explain(x)
	i := slices.IndexFunc(ex.Topics, func(r Reason) bool { return r.Tag == "ozg-onlinedienste" })
	if i < 0 || ex.Topics[i].From != "model" || !strings.HasPrefix(ex.Topics[i].Evidence, "model 0.") || !strings.Contains(ex.Topics[i].Evidence, "onlin") {
		t.Fatalf("reasons %+v: want ozg-onlinedienste from the model with its score and the word online", ex.Topics)
	}
	ex = tg.Explain(Text{Title: "Neue Ladesäulen in der Innenstadt"})
	if len(ex.Topics) == 0 || ex.Topics[0].Tag != "verkehr-mobilitaet" || ex.Topics[0].Evidence[:len("Ladesäulen (model 0.")] != "Ladesäulen (model 0." {
		t.Errorf("reasons %+v: want verkehr-mobilitaet from the rule term with the model's score", ex.Topics)
	}
}

// At most MaxTopics topics, rule hits first.
func TestTopics_AtMostThree(t *testing.T) {
	tg := mustTagger(t)
	x := Text{Title: "KI, Cyberangriff, Open Source, Bebauungsplan und Förderprogramm: Schulen im Fokus"}
	hits := tg.rules.Slugs(x.Title)
	if len(hits) <= MaxTopics {
		t.Fatalf("rules match %v; the test needs more than %d", hits, MaxTopics)
	}
	for _, g := range []*Tagger{tg, tg.WithModel(nil)} {
		got := g.Tag(x).Topics
		if len(got) != MaxTopics {
			t.Errorf("topics %v: want %d", got, MaxTopics)
		}
		for _, s := range got {
			if !slices.Contains(hits, s) {
				t.Errorf("topic %s is not a rule hit %v; rule hits come first", s, hits)
			}
		}
	}
}

// A category that names a topic still decides first.
func TestTopics_CategoryFirst(t *testing.T) {
	tg := mustTagger(t)
	got := tg.Tag(Text{Title: "Hackerangriff auf die Kreisverwaltung", Categories: []string{"Open Source"}})
	if !slices.Equal(got.Topics, []string{"open-source"}) {
		t.Errorf("topics %v, want [open-source] from the category", got.Topics)
	}
}

func TestDefaultModelLoads(t *testing.T) {
	m, err := topicmodel.Parse(DefaultModel, "model/topics.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Topics, topicSlugs()) {
		t.Errorf("model topics %v differ from the taxonomy's %v; run make train", m.Topics, topicSlugs())
	}
}

func topicSlugs() []string {
	var s []string
	for _, tp := range testSet().Topics {
		s = append(s, tp.Slug)
	}
	return s
}

func BenchmarkDefaultTagger(b *testing.B) {
	for b.Loop() {
		if _, err := DefaultTagger(testSet()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseModel(b *testing.B) {
	for b.Loop() {
		if _, err := topicmodel.Parse(DefaultModel, "model/topics.tsv"); err != nil {
			b.Fatal(err)
		}
	}
}

// Rule terms that matched common words no longer tag: the preposition
// "inklusive", the verb "stellen", "Infrastruktur" alone.
func TestTopics_CommonWordsDoNotMatchRules(t *testing.T) {
	tg := mustTagger(t)
	for _, c := range []struct{ text, topic string }{
		{"Das Paket gibt es inklusive Wartung", "barrierefreiheit"},
		{"Die Kommunen stellen ihre Pläne vor", "personal-organisation"},
		{"Die Infrastruktur der Region wächst", "cloud-infrastruktur"},
	} {
		if got := tg.rules.Slugs(c.text); slices.Contains(got, c.topic) {
			t.Errorf("rules give %q the topic %s (%v)", c.text, c.topic, got)
		}
	}
	if got := tg.rules.Slugs("Der kommunale IT-Dienstleister zieht um"); !slices.Contains(got, "cloud-infrastruktur") {
		t.Errorf("IT-Dienstleister: rules give %v, want cloud-infrastruktur", got)
	}
}
