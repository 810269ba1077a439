package articles

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kommune21/digest/articles/topicmodel"
	"github.com/kommune21/digest/taxonomy"
)

// DefaultModel is the embedded topic model (model/topics.tsv, `make train`).
//
//go:embed model/topics.tsv
var DefaultModel string

// MaxTopics is the most topics the tagger gives an article from its text.
const MaxTopics = 3

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Nationwide is the region of an article that names no Land.
const Nationwide = "DE"

// Text is what the tagger reads of an article. Content is the feed's full text
// (content:encoded, Atom content, JSON Feed content_html) as plain text, when the
// feed has one besides the teaser.
type Text struct {
	Kicker, Title, Teaser string
	Content               string
	Categories            []string
}

// Reason says why a tag was given (or, for the fallback, why no other was).
type Reason struct {
	Tag      string `json:"tag"`      // region code or topic slug
	From     string `json:"from"`     // "category", "kicker", "title", "teaser", "title/teaser" (topics), "content", "fallback"
	Evidence string `json:"evidence"` // the category, place, organisation or term that decided
}

// Explanation is a tagging decision with its reasons and doubts.
type Explanation struct {
	Tags
	Regions []Reason `json:"region_reasons"`
	Topics  []Reason `json:"topic_reasons"`
	// Doubts name what makes the decision uncertain, for staff review: a
	// fallback to DE, an ambiguous place, several candidate Länder, no topic.
	Doubts []string `json:"doubts"`
}

// Tags are an article's regions (codes) and topics (slugs) in taxonomy order.
type Tags struct {
	Regions []string
	Topics  []string
}

// Tagger assigns regions and topics to articles. It is safe for concurrent use.
type Tagger struct {
	gaz     *Gazetteer
	rules   *Rules
	model   *topicmodel.Model // nil: keyword rules only
	set     *taxonomy.Set
	regions map[string]string // lower-case code or name → code
	topics  map[string]string // lower-case slug or name → slug
}

// NewTagger returns a tagger for the regions and topics of set.
func NewTagger(set *taxonomy.Set, gaz *Gazetteer, rules *Rules) *Tagger {
	t := &Tagger{gaz: gaz, rules: rules, set: set, regions: map[string]string{}, topics: map[string]string{}}
	for _, r := range set.Regions {
		t.regions[strings.ToLower(r.Code)] = r.Code
		t.regions[strings.ToLower(r.Name)] = r.Code
	}
	for _, tp := range set.Topics {
		t.topics[tp.Slug] = tp.Slug
		t.topics[strings.ToLower(tp.Name)] = tp.Slug
	}
	return t
}

// WithModel returns a copy of t that combines its keyword rules with the
// learned topic model m (nil: rules only).
func (t *Tagger) WithModel(m *topicmodel.Model) *Tagger {
	c := *t
	c.model = m
	return &c
}

// DefaultTagger returns a tagger with the embedded gazetteer, topic rules and
// topic model.
func DefaultTagger(set *taxonomy.Set) (*Tagger, error) {
	gaz, err := LoadGazetteer()
	if err != nil {
		return nil, err
	}
	rules, err := ParseRulesString(DefaultRules, "rules/topics.txt")
	if err != nil {
		return nil, err
	}
	model, err := topicmodel.Parse(DefaultModel, "model/topics.tsv")
	if err != nil {
		return nil, err
	}
	return NewTagger(set, gaz, rules).WithModel(model), nil
}

// Tag returns the article's tags. Categories that name a region or a topic
// decide that dimension; otherwise regions come from the gazetteer (the kicker
// first, then title and teaser, then the full text) and topics from the keyword
// rules (kicker, title and teaser; the full text only when they give none).
// Regions are never empty: an article that names no Land is Nationwide.
func (t *Tagger) Tag(x Text) Tags { return t.Explain(x).Tags }

// Explain is Tag with the reasons for each tag and the doubts a staff member
// should look at (`digest articles explain`, `digest articles review`).
func (t *Tagger) Explain(x Text) Explanation {
	var ex Explanation
	var regions, topics []string
	for _, c := range x.Categories {
		for _, code := range t.categoryRegions(c) {
			regions = append(regions, code)
			ex.Regions = append(ex.Regions, Reason{Tag: code, From: "category", Evidence: c})
		}
		for _, slug := range t.categoryTopics(c) {
			topics = append(topics, slug)
			ex.Topics = append(ex.Topics, Reason{Tag: slug, From: "category", Evidence: c})
		}
	}
	if len(regions) == 0 {
		var reasons []Reason
		regions, reasons, ex.Doubts = t.inferRegions(x)
		ex.Regions = append(ex.Regions, reasons...)
	}
	if len(topics) == 0 {
		var reasons []Reason
		var doubt string
		topics, reasons, doubt = t.inferTopics(x)
		ex.Topics = append(ex.Topics, reasons...)
		if doubt != "" {
			ex.Doubts = append(ex.Doubts, doubt)
		}
	}
	ex.Tags = t.normalise(regions, topics)
	ex.Regions, ex.Topics = distinct(ex.Regions), distinct(ex.Topics)
	return ex
}

// inferTopics returns the topics of an article's text with their reasons and
// a doubt ("" when none). A topic is given when a keyword rule matches the
// kicker, title or teaser (the full text when those match none) or when the
// model's probability reaches its threshold; at most MaxTopics, rule hits
// first, then by probability. When neither gives one, the model's best topic is
// taken and flagged as a doubt so that review lists the article.
func (t *Tagger) inferTopics(x Text) ([]string, []Reason, string) {
	head := x.Kicker + " | " + x.Title + " | " + x.Teaser
	type cand struct {
		slug   string
		rule   bool
		p      float64
		reason Reason
	}
	var cands []cand
	byslug := map[string]int{}
	add := func(c cand) {
		if i, ok := byslug[c.slug]; ok {
			cands[i].rule = cands[i].rule || c.rule
			return
		}
		byslug[c.slug] = len(cands)
		cands = append(cands, c)
	}
	for _, m := range t.rules.Match(head) {
		add(cand{slug: m.Slug, rule: true, reason: Reason{Tag: m.Slug, From: "title/teaser", Evidence: m.Term}})
	}
	if len(cands) == 0 && x.Content != "" {
		for _, m := range t.rules.Match(x.Content) {
			add(cand{slug: m.Slug, rule: true, reason: Reason{Tag: m.Slug, From: "content", Evidence: m.Term}})
		}
	}
	var scores []topicmodel.Score
	if t.model != nil {
		text := head
		if x.Content != "" {
			text += " | " + x.Content
		}
		scores = t.model.Scores(text)
		for _, sc := range scores {
			if i, ok := byslug[sc.Topic]; ok {
				cands[i].p = sc.P
				cands[i].reason.Evidence += fmt.Sprintf(" (model %.2f)", sc.P)
			} else if sc.P >= t.model.ThresholdOf(sc.Topic) {
				add(cand{slug: sc.Topic, p: sc.P, reason: Reason{Tag: sc.Topic, From: "model", Evidence: modelEvidence(sc)}})
			}
		}
	}
	if len(cands) == 0 {
		if len(scores) == 0 {
			return nil, nil, "no topic: no rule matched"
		}
		best := scores[0]
		return []string{best.Topic}, []Reason{{Tag: best.Topic, From: "fallback", Evidence: modelEvidence(best)}},
			fmt.Sprintf("no topic: no rule matched and no model score reached its threshold; the model's best guess %s (%.2f) was taken", best.Topic, best.P)
	}
	// rule hits first, then by probability; the order is stable for ties
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && less(cands[j].rule, cands[j].p, cands[j-1].rule, cands[j-1].p); j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	if len(cands) > MaxTopics {
		cands = cands[:MaxTopics]
	}
	topics := make([]string, len(cands))
	reasons := make([]Reason, len(cands))
	for i, c := range cands {
		topics[i], reasons[i] = c.slug, c.reason
	}
	return topics, reasons, ""
}

func less(ruleA bool, pA float64, ruleB bool, pB float64) bool {
	if ruleA != ruleB {
		return ruleA
	}
	return pA > pB
}

func modelEvidence(s topicmodel.Score) string {
	ev := fmt.Sprintf("model %.2f", s.P)
	if len(s.Evidence) > 0 {
		ev += ": " + strings.Join(s.Evidence, ", ")
	}
	return ev
}

func (t *Tagger) categoryRegions(c string) []string {
	key := strings.ToLower(strings.TrimSpace(c))
	if code, ok := t.regions[key]; ok {
		return []string{code}
	}
	if lands, ok := t.gaz.Lookup(c); ok {
		return lands
	}
	return nil
}

func (t *Tagger) categoryTopics(c string) []string {
	key := strings.ToLower(strings.TrimSpace(c))
	if slug, ok := t.topics[key]; ok {
		return []string{slug}
	}
	return t.rules.Slugs(c)
}

// inferRegions returns the Länder the article's text names, with the reasons
// and doubts. The kicker decides when it names a place; else the title; else
// the teaser (places elsewhere still resolve an ambiguous name);
// else the full text; else an organisation serving several Länder; else DE.
func (t *Tagger) inferRegions(x Text) ([]string, []Reason, []string) {
	parts := []struct {
		from string
		hits []hit
	}{{"kicker", t.gaz.find(x.Kicker)}, {"title", t.gaz.find(x.Title)}, {"teaser", t.gaz.find(x.Teaser)}}
	if x.Content != "" {
		parts = append(parts, struct {
			from string
			hits []hit
		}{"content", t.gaz.find(x.Content)})
	}
	markCues(parts[0].hits, parts[1].hits, parts[2].hits)
	if x.Content != "" {
		markCues(parts[3].hits)
	}
	if bezirksamt(x) {
		for _, p := range parts {
			for i := range p.hits {
				p.hits[i].bezirk = true
			}
		}
	}
	context := map[string]bool{}
	for _, p := range parts {
		for _, h := range p.hits {
			if h.entry.weak {
				continue
			}
			if lands := h.lands(nil); len(lands) == 1 && (h.entry.fixed != nil || len(h.entry.places) == 1) {
				context[lands[0]] = true
			}
		}
	}
	var doubts []string
	var weak []string
	var weakReasons []Reason
	// A national body makes a venue ("tagte in Düsseldorf") in the part that
	// names it and in the parts after it, not before: "Digitaler Bauantrag in
	// Kulmbach" stays Bayern when the teaser names an MP "(Bundestag)".
	anyBody := nationalBody(x.Kicker + " " + x.Title + " " + x.Teaser)
	texts := map[string]string{"kicker": x.Kicker, "title": x.Title, "teaser": x.Teaser, "content": x.Content}
	national := ""
	berlinNamed := false // Berlin named other than as a venue anywhere in the article
	for _, p := range parts {
		for _, h := range p.hits {
			if (!h.inPlace() || !capital(h)) && !h.entry.weak && slices.Contains(h.lands(context), "DE-BE") {
				berlinNamed = true
			}
		}
	}
	// a city written as a federal body's seat ("Bundesbehörden mit Sitz in
	// Bonn", "Wiesbadener Bundeskriminalamt") is a venue in every part, also
	// where it stands alone ("Wiesbaden" as the kicker, "„Digital Cluster
	// Bonn“")
	var seats []string
	if anyBody != "" {
		for _, p := range parts {
			for _, h := range p.hits {
				if h.seat() {
					seats = append(seats, strings.ToLower(h.name))
				}
			}
		}
	}
	if word := rankingWord(x); word != "" {
		// "Smart City Index: München baut Vorsprung aus … Hamburg … Köln": a
		// ranking of cities in three Länder or more is nationwide news
		all := map[string]bool{}
		for _, p := range parts {
			for _, h := range p.hits {
				if !h.entry.weak {
					for _, l := range h.lands(context) {
						all[l] = true
					}
				}
			}
		}
		if len(all) >= 3 {
			doubts = append(doubts, fmt.Sprintf("%q ranks places in %d Länder: bundesweit (DE)", word, len(all)))
			return []string{Nationwide}, []Reason{{Tag: Nationwide, From: "ranking", Evidence: word}}, doubts
		}
	}
	for pi, p := range parts {
		var strong []string
		var reasons []Reason
		if national == "" && p.from != "content" {
			national = nationalBody(texts[p.from])
		}
		venueOnly := map[string]bool{} // Länder reached in this part only through a venue
		named := map[string]bool{}     // Länder reached in this part otherwise
		agency := ""
		if p.from != "kicker" {
			agency = agencyDateline(texts[p.from])
		}
		inAgency := agency != ""
		for i, h := range p.hits {
			// a dateline ("Berlin. Karsten Wildberger …", "Offenbach/Stuttgart
			// (dpa) – …") says where the report was written: a venue when a
			// national body is named anywhere
			inAgency = inAgency && strings.Contains(agency, h.name)
			dateline := i == 0 && p.from != "kicker" && isDateline(texts[p.from], h.name) || inAgency
			switch {
			case slices.ContainsFunc(seats, func(s string) bool { return sameCity(s, strings.ToLower(h.name)) }):
				doubts = append(doubts, fmt.Sprintf("%q in %s is the seat of a federal body (%s): ignored", h.name, p.from, anyBody))
				continue
			case national != "" && h.venue():
				doubts = append(doubts, fmt.Sprintf("%q in %s is only where %s met: ignored", h.name, p.from, national))
				continue
			case anyBody != "" && dateline:
				doubts = append(doubts, fmt.Sprintf("%q in %s is only the dateline of a report on %s: ignored", h.name, p.from, anyBody))
				continue
			case h.entry.kind == "demonym" && declarationWords[h.next]:
				// "Dresdner Forderungen", "Dortmunder Erklärung": a paper named
				// after where it was adopted
				doubts = append(doubts, fmt.Sprintf("%q in %s names where a paper was adopted: ignored", h.name+" "+h.next, p.from))
				continue
			}
			if h.institution() && studyPart(texts[p.from]) {
				// "Eine Studie der TU München …", "von der TU Darmstadt … befragt":
				// a university as the author of a study is no place of the news
				doubts = append(doubts, fmt.Sprintf("%q in %s is a university that made a study: ignored", h.name, p.from))
				continue
			}
			if castleWords[h.prev] && h.entry.fixed == nil || h.name == "Burg" && i+1 < len(p.hits) && p.hits[i+1].prev == "burg" {
				// "auf Burg Lichtenberg", "Schloss Filseck": a building's name
				doubts = append(doubts, fmt.Sprintf("%q in %s is part of a building's name: ignored", h.name, p.from))
				continue
			}
			lands := h.lands(context)
			if !h.entry.weak {
				for _, l := range lands {
					if h.inPlace() && h.venue() && (l != "DE-BE" || capital(h)) && !landList(p.hits, i) || h.institution() {
						// "in Pankow" names a Berlin Bezirk, not the capital as a venue
						venueOnly[l] = true
					} else {
						named[l] = true
					}
				}
			}
			if h.entry.weak {
				if len(weak) == 0 && len(lands) > 0 {
					weak = lands
					for _, l := range lands {
						weakReasons = append(weakReasons, Reason{Tag: l, From: p.from, Evidence: h.name + " (serves several Länder)"})
					}
				}
				continue
			}
			if len(lands) == 0 {
				doubts = append(doubts, fmt.Sprintf("ambiguous place %q in %s ignored", h.name, p.from))
				continue
			}
			strong = append(strong, lands...)
			for _, l := range lands {
				reasons = append(reasons, Reason{Tag: l, From: p.from, Evidence: h.name})
			}
		}
		if len(strong) > 0 {
			strong, reasons = dropVenues(strong, reasons, venueOnly, named, &doubts, p.from)
			if len(strong) > 0 && venueOnly["DE-BE"] && !berlinNamed && len(named) == 0 {
				// "in Berlin gegründet", "Neuer Standort in Berlin": the capital
				// as a mere venue is where federal things happen; only a Berlin
				// named otherwise ("das Land Berlin", "Berliner …") makes the
				// article Berlin's. Another Land reached the same way stays
				// ("Standorte in Hamburg und in Berlin" is Hamburg's).
				doubts = append(doubts, fmt.Sprintf("Berlin in %s is only a venue: ignored", p.from))
				strong, reasons = dropLand(strong, reasons, "DE-BE")
				if len(strong) == 0 {
					continue
				}
			}
			if slices.Contains(strong, "DE-BE") && len(distinct(strong)) > 1 && onlyCapital(p.hits) && federalPart(texts[p.from]) {
				// "Bayern startet Pilot-Kooperationen mit dem Bund / … Berlin und
				// München arbeiten zusammen": beside a Land and the Bund, the
				// capital's name stands for the federal government
				doubts = append(doubts, fmt.Sprintf("Berlin in %s stands for the Bund: ignored", p.from))
				strong, reasons = dropLand(strong, reasons, "DE-BE")
			}
			// a later part may introduce an administration of another Land
			// as a participant: "zu Gast im niedersächsischen Landkreis
			// Lüchow-Dannenberg", "Landrat aus Coesfeld"
			for _, q := range parts[pi+1:] {
				if q.from == "content" {
					continue
				}
				for _, h := range q.hits {
					if !participant(h) {
						continue
					}
					if lands := h.lands(context); len(lands) == 1 && !slices.Contains(strong, lands[0]) {
						strong = append(strong, lands[0])
						reasons = append(reasons, Reason{Tag: lands[0], From: q.from, Evidence: h.name})
					}
				}
			}
			if n := len(distinct(strong)); n >= maxLänder+1 {
				// "Sechs Städte erhielten Preise: Bremerhaven, Frankfurt am Main,
				// Kempten, Kiel, Nürnberg und Recklinghausen": news of five
				// Länder or more concerns the Länder in general (GUIDE.md)
				doubts = append(doubts, fmt.Sprintf("%d Länder named in %s: bundesweit (DE)", n, p.from))
				return []string{Nationwide}, []Reason{{Tag: Nationwide, From: p.from, Evidence: fmt.Sprintf("places in %d Länder", n)}}, doubts
			} else if n > 1 {
				doubts = append(doubts, fmt.Sprintf("%d Länder named in %s", n, p.from))
			}
			if p.from == "content" {
				doubts = append(doubts, "Land only from the full text")
			}
			return strong, reasons, doubts
		}
	}
	if len(weak) > 0 {
		doubts = append(doubts, "Länder only from an organisation serving several Länder")
		return weak, weakReasons, doubts
	}
	if land, word, ok := verbandTypeLand(x); ok {
		doubts = append(doubts, fmt.Sprintf("Land only from the word %q (no place named)", word))
		return []string{land}, []Reason{{Tag: land, From: "type word", Evidence: word}}, doubts
	}
	doubts = append(doubts, "no place named: bundesweit (DE)")
	return []string{Nationwide}, []Reason{{Tag: Nationwide, From: "fallback", Evidence: "no place or Land named"}}, doubts
}

// participant reports whether a hit names an administration of its own as
// taking part: a Land's adjective before a type word ("im niedersächsischen
// Landkreis Lüchow-Dannenberg", "die sächsische Stadt") or the place an office
// holder comes from ("Landrat aus Coesfeld"). A mere speaker's town
// ("Eine Referentin aus Ulm") is none.
func participant(h hit) bool {
	if h.entry.kind == "adj" {
		return adminTypeWords[h.next]
	}
	return h.entry.fixed == nil && h.prev == "aus" && officeWords[h.prev2]
}

var adminTypeWords = map[string]bool{
	"landkreis": true, "landkreises": true, "kreis": true, "kreises": true, "stadt": true, "gemeinde": true,
	"kommune": true, "landeshauptstadt": true, "kreisstadt": true, "kreisverwaltung": true, "stadtverwaltung": true,
}

var officeWords = map[string]bool{
	"landrat": true, "landrätin": true, "bürgermeister": true, "bürgermeisterin": true,
	"oberbürgermeister": true, "oberbürgermeisterin": true, "kämmerer": true, "kämmerin": true,
}

// maxLänder is the most Länder an article is tagged with: one that concerns
// more is about the Länder in general, bundesweit (GUIDE.md, regions rule 3).
const maxLänder = 4

// markCues marks the hits whose name stands after a cue word in any of the
// given parts (kicker, title and teaser together), so that one name resolves
// one way in the article.
func markCues(parts ...[]hit) {
	cued := map[string]bool{}
	for _, hs := range parts {
		for _, h := range hs {
			if h.cue() {
				cued[h.name] = true
			}
		}
	}
	for _, hs := range parts {
		for i := range hs {
			hs[i].cued = cued[hs[i].name]
		}
	}
}

// bezirksamt reports whether the article speaks of a Bezirksamt of Berlin or
// Hamburg ("Bezirksamt", "Bezirksämter", "Bezirksbürgermeister").
func bezirksamt(x Text) bool {
	for _, part := range []string{x.Kicker, x.Title, x.Teaser} {
		for _, t := range tokenize(part) {
			if strings.HasPrefix(t.lower, "bezirksamt") || strings.HasPrefix(t.lower, "bezirksämt") || strings.HasPrefix(t.lower, "bezirksbürgermeister") {
				return true
			}
		}
	}
	return false
}

// dropVenues removes the Länder that a part reaches only through a venue ("in
// Hamburg") when the same part names another Land otherwise: "Der
// Verwaltungsrat stimmte in Hamburg zu, dass die schleswig-holsteinischen
// Kommunen …" is about Schleswig-Holstein.
func dropVenues(strong []string, reasons []Reason, venueOnly, named map[string]bool, doubts *[]string, from string) ([]string, []Reason) {
	drop := map[string]bool{}
	for l := range venueOnly {
		if !named[l] && len(named) > 0 {
			drop[l] = true
		}
	}
	if len(drop) == 0 {
		return strong, reasons
	}
	var s []string
	var r []Reason
	for _, l := range strong {
		if !drop[l] {
			s = append(s, l)
		}
	}
	for _, rs := range reasons {
		if drop[rs.Tag] {
			*doubts = append(*doubts, fmt.Sprintf("%q in %s is only where something took place beside another Land: ignored", rs.Evidence, from))
			continue
		}
		r = append(r, rs)
	}
	return s, r
}

// landList reports whether hit i is the first of a list of Länder: "In
// Berlin und Sachsen kann der Antrag online gestellt werden" names two Länder,
// the city-state is no mere venue there.
func landList(hits []hit, i int) bool {
	if i+1 >= len(hits) || hits[i].entry.kind != "land" {
		return false
	}
	n := hits[i+1]
	return n.entry.kind == "land" && n.prev == hits[i].next && (n.prev == "und" || n.prev == "oder" || n.prev == "sowie")
}

// capital reports whether the hit is Berlin itself, not one of its Bezirke
// or Ortsteile ("in Pankow"): only the capital is a federal venue.
func capital(h hit) bool { return h.entry.kind == "land" }

// onlyCapital reports whether the hits reach Berlin only through the bare
// name "Berlin" (not "das Land Berlin", a Bezirk or "Berliner …").
func onlyCapital(hits []hit) bool {
	for _, h := range hits {
		if h.entry.weak {
			continue
		}
		if slices.Contains(h.lands(nil), "DE-BE") && (!capital(h) || h.prev == "land" || h.prev == "bundesland" || h.prev == "senat") {
			return false
		}
	}
	return true
}

// federalPart reports whether text names the Bund ("mit dem Bund") or a
// national body.
func federalPart(text string) bool {
	for _, t := range tokenize(text) {
		if t.lower == "bund" || t.lower == "bundes" {
			return true
		}
	}
	return nationalBody(text) != ""
}

// dropLand removes land from strong and its reasons.
func dropLand(strong []string, reasons []Reason, land string) ([]string, []Reason) {
	strong = slices.DeleteFunc(slices.Clone(strong), func(l string) bool { return l == land })
	reasons = slices.DeleteFunc(slices.Clone(reasons), func(r Reason) bool { return r.Tag == land })
	return strong, reasons
}

// sameCity reports whether two lower-case names are one city's: the same, or
// a name and its demonym ("wiesbaden", "wiesbadener").
func sameCity(a, b string) bool {
	return a == b || a == b+"er" || b == a+"er"
}

// datelineSeps end a dateline: "Berlin: …", "Berlin - …", "Berlin – …",
// "Berlin — …" and the wire services' "BERLIN (Dow Jones)--Für …".
var datelineSeps = []string{": ", " - ", " – ", " — ", "--", " -- "}

// isDateline reports whether text begins with name and a full stop, a colon
// or a dash, the dateline of a report ("Berlin. …", "Neustadt/WN. …",
// "Berlin: (hib) …", "Berlin - Ab heute …").
func isDateline(text, name string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(text), name)
	if !ok {
		return false
	}
	for _, sep := range datelineSeps {
		if strings.HasPrefix(rest, sep) {
			return true
		}
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 && i <= 4 && !strings.ContainsAny(rest[:i], " ") {
		return true
	}
	return false
}

// rankingWord returns the first word of the article that names a ranking
// ("Smart City Index", "Digital-Ranking", "Rangliste"), or "".
func rankingWord(x Text) string {
	for _, part := range []string{x.Kicker, x.Title, x.Teaser} {
		for _, t := range tokenize(part) {
			if t.lower == "index" || strings.Contains(t.lower, "ranking") || strings.Contains(t.lower, "rangliste") {
				return t.orig
			}
		}
	}
	return ""
}

// studyWords name a study or survey.
var studyWords = map[string]bool{
	"studie": true, "studien": true, "umfrage": true, "umfragen": true, "befragt": true, "befragung": true,
	"trendbarometer": true, "erhebung": true, "untersuchung": true,
}

// studyPart reports whether text speaks of a study or survey.
func studyPart(text string) bool {
	for _, t := range tokenize(text) {
		if studyWords[t.lower] {
			return true
		}
	}
	return false
}

// castleWords stand before a place name that names a building ("Burg
// Lichtenberg" in the Pfalz, not Berlin-Lichtenberg).
var castleWords = map[string]bool{"burg": true, "schloss": true, "kloster": true, "festung": true}

// agencyDateline returns the places of a news agency's dateline at the
// start of text ("Offenbach/Stuttgart (dpa) – …", "Frankfurt am Main
// (Weltexpresso) - …"), or "".
func agencyDateline(text string) string {
	text = strings.TrimSpace(text)
	open := strings.Index(text, " (")
	if open <= 0 || open > 40 {
		return ""
	}
	end := strings.IndexByte(text[open:], ')')
	if end < 0 || end > 30 {
		return ""
	}
	rest := text[open+end+1:]
	if !slices.ContainsFunc(datelineSeps, func(sep string) bool { return strings.HasPrefix(rest, sep) }) {
		return ""
	}
	places := text[:open]
	if strings.ContainsAny(places, ".,:;!?") {
		return ""
	}
	return places
}

// declarationWords follow a city's demonym in the name of a paper adopted
// there ("Dresdner Forderungen", "Dortmunder Erklärung").
var declarationWords = map[string]bool{
	"erklärung": true, "forderungen": true, "thesen": true, "appell": true, "manifest": true,
	"resolution": true, "deklaration": true, "beschlüsse": true, "charta": true, "agenda": true,
}

// verbandTypes are the kinds of Gemeinde and Gemeindeverband that exist in
// one Land only, by its Gemeindeordnung: a text that names no place but its
// "Samtgemeindeverwaltung" is from Niedersachsen. Verbandsgemeinden are
// Rheinland-Pfalz's (129; Sachsen-Anhalt has 10), Ortsgemeinden too.
var verbandTypes = []struct{ prefix, land string }{
	{"samtgemeinde", "DE-NI"}, {"verbandsgemeinde", "DE-RP"}, {"ortsgemeinde", "DE-RP"},
}

// verbandTypeLand returns the Land of the first one-Land type word in the
// article ("Verbandsgemeindeverwaltung"), the word and true.
func verbandTypeLand(x Text) (string, string, bool) {
	for _, part := range []string{x.Kicker, x.Title, x.Teaser, x.Content} {
		for _, t := range tokenize(part) {
			for _, v := range verbandTypes {
				if strings.HasPrefix(t.lower, v.prefix) {
					return v.land, t.orig, true
				}
			}
		}
	}
	return "", "", false
}

// nationalWords name federal bodies and nationwide associations: a city that
// is only where one of them meets ("Der IT-Planungsrat tagte in Berlin")
// does not make the article regional.
var nationalWords = []string{"it-planungsrat", "bsi", "bundesregierung", "bundesministerium", "bundesminister",
	"bund-länder", "deutscher städtetag", "deutschen städtetag",
	"dstgb", "deutscher landkreistag", "bitkom", "bundes-cio", "bundesrat", "bundestag"}

// federalAgencies are federal bodies whose name does not begin with
// "Bundes" (the Deutscher Wetterdienst in Offenbach, Destatis in Wiesbaden).
var federalAgencies = map[string]bool{"wetterdienst": true, "wetterdienstes": true, "destatis": true, "bka": true, "fitko": true, "bamf": true, "bkg": true}

// federalBody reports whether a lower-case token names a federal authority:
// "Bundesamt", "Bundeskriminalamtes", "Bundesbehörden", "Bundesanstalt",
// "Bundesnetzagentur", "Bundesinnenministerium", "Bundesverwaltungen", or one of federalAgencies.
func federalBody(tok string) bool {
	if federalAgencies[tok] {
		return true
	}
	rest, ok := strings.CutPrefix(tok, "bundes")
	if !ok {
		return false
	}
	for _, w := range []string{"amt", "anstalt", "behörde", "agentur", "ministerium", "verwaltung"} {
		if strings.Contains(rest, w) {
			return true
		}
	}
	return false
}

// nationalBody returns the first national body text names, or "".
func nationalBody(text string) string {
	toks := tokenize(text)
	for i, t := range toks {
		if federalBody(t.lower) {
			return t.orig
		}
		for _, w := range nationalWords {
			first, rest, two := strings.Cut(w, " ")
			if t.lower == w || strings.HasPrefix(t.lower, w+"s") && len(t.lower) == len(w)+1 ||
				two && t.lower == first && i+1 < len(toks) && toks[i+1].lower == rest {
				return t.orig
			}
		}
	}
	return ""
}

func distinct[T comparable](s []T) []T {
	seen := map[T]bool{}
	var out []T
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// normalise orders and deduplicates tags by the taxonomy and drops unknown ones.
func (t *Tagger) normalise(regions, topics []string) Tags {
	var tags Tags
	seen := map[string]bool{}
	for _, r := range t.set.Regions {
		for _, c := range regions {
			if c == r.Code && !seen[c] {
				seen[c] = true
				tags.Regions = append(tags.Regions, c)
			}
		}
	}
	for _, tp := range t.set.Topics {
		for _, s := range topics {
			if s == tp.Slug && !seen["t:"+s] {
				seen["t:"+s] = true
				tags.Topics = append(tags.Topics, s)
			}
		}
	}
	if len(tags.Regions) == 0 {
		tags.Regions = []string{Nationwide}
	}
	return tags
}
