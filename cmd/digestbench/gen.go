package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// The generator makes deterministic, realistic data: Länder weighted by
// population, topics by a Zipf-like popularity, most subscribers choosing a
// few of each, some choosing everything, a few daily.

// land is a Land code with a weight (population, millions) and places for kickers.
type land struct {
	code   string
	weight float64
	places []string
}

var laender = []land{
	{"DE-BW", 11.1, []string{"Stuttgart", "Karlsruhe", "Freiburg", "Kreis Esslingen", "Ulm"}},
	{"DE-BY", 13.2, []string{"München", "Nürnberg", "Augsburg", "Landkreis Würzburg", "AKDB"}},
	{"DE-BE", 3.7, []string{"Berlin", "Bezirk Neukölln", "ITDZ Berlin"}},
	{"DE-BB", 2.5, []string{"Potsdam", "Cottbus", "Landkreis Barnim"}},
	{"DE-HB", 0.7, []string{"Bremen", "Bremerhaven"}},
	{"DE-HH", 1.9, []string{"Hamburg", "Dataport"}},
	{"DE-HE", 6.3, []string{"Wiesbaden", "Frankfurt am Main", "Kassel", "ekom21"}},
	{"DE-MV", 1.6, []string{"Schwerin", "Rostock", "Greifswald"}},
	{"DE-NI", 8.0, []string{"Hannover", "Osnabrück", "Göttingen", "Kreis Lüneburg"}},
	{"DE-NW", 18.0, []string{"Köln", "Düsseldorf", "Münster", "Kreis Paderborn", "Mönchengladbach", "regio iT"}},
	{"DE-RP", 4.1, []string{"Mainz", "Trier", "Ludwigshafen"}},
	{"DE-SL", 1.0, []string{"Saarbrücken", "eGo-Saar"}},
	{"DE-SN", 4.1, []string{"Dresden", "Leipzig", "Chemnitz"}},
	{"DE-ST", 2.2, []string{"Magdeburg", "Halle (Saale)"}},
	{"DE-SH", 2.9, []string{"Kiel", "Lübeck", "Kreis Nordfriesland"}},
	{"DE-TH", 2.1, []string{"Erfurt", "Jena", "Weimar"}},
}

var topics = []string{
	"ozg-onlinedienste", "it-sicherheit", "kuenstliche-intelligenz", "cloud-infrastruktur",
	"registermodernisierung", "smart-city", "e-akte-dokumente", "personal-organisation",
	"finanzen-foerderung", "open-source", "prozessmanagement", "schule-bildung",
	"buergerbeteiligung", "barrierefreiheit", "geodaten-planung", "gesundheit-soziales",
	"verkehr-mobilitaet", "low-code", "beschaffung", "strategie-politik",
}

var federal = []string{"Bund", "IT-Planungsrat", "FITKO", "BSI", "Deutscher Städtetag", "Bitkom"}

var (
	firstNames = []string{"Anna", "Jürgen", "Sören", "Käthe", "Lukas", "Marie", "Björn", "Hannah", "Özlem", "Felix",
		"Lea", "Jörg", "Sophie", "Matthias", "Jana", "Günther", "Ayşe", "Tobias", "Franziska", "Rüdiger"}
	lastNames = []string{"Müller", "Schmidt", "Schäfer", "Weiß", "Böhm", "Krüger", "Hoffmann", "Wagner", "Becker",
		"Schulz", "Koch", "Richter", "Groß", "Fuchs", "Jäger", "Möller", "Yılmaz", "Neumann", "Zimmermann", "Öztürk"}
	domains = []string{"example.org", "example.com", "stadt.example", "kreis.example", "verwaltung.example"}
	verbs   = []string{"startet", "erweitert", "digitalisiert", "vergibt Auftrag für", "zieht Bilanz zu",
		"setzt auf", "testet", "führt ein", "modernisiert", "fördert"}
	things = map[string][]string{
		"ozg-onlinedienste":       {"Onlinedienste nach dem OZG", "das Bürgerportal", "digitale Antragsstrecken"},
		"it-sicherheit":           {"ein neues Sicherheitskonzept", "Notfallübungen gegen Cyberangriffe", "das Informationssicherheitsmanagement"},
		"kuenstliche-intelligenz": {"einen KI-Assistenten im Bürgerbüro", "KI-gestützte Posteingänge", "Sprachmodelle in der Verwaltung"},
		"cloud-infrastruktur":     {"die Verwaltungscloud", "ein neues Rechenzentrum", "souveräne Cloud-Dienste"},
		"registermodernisierung":  {"die Registermodernisierung", "das Once-Only-Prinzip", "den Datenaustausch zwischen Registern"},
		"smart-city":              {"Sensoren für die Smart City", "ein urbanes Datenportal", "digitale Zwillinge"},
		"e-akte-dokumente":        {"die E-Akte", "digitale Dokumentenablage", "elektronische Rechnungen"},
		"personal-organisation":   {"mobiles Arbeiten", "ein Fortbildungsprogramm Digitales", "neue Stellen in der IT"},
		"finanzen-foerderung":     {"ein Förderprogramm", "Mittel aus dem Digitalpakt", "den Haushalt für Digitalisierung"},
		"open-source":             {"Open-Source-Software", "openDesk am Arbeitsplatz", "freie Fachverfahren"},
		"prozessmanagement":       {"Prozessmodellierung", "eine Prozessbibliothek", "schlankere Verwaltungsabläufe"},
		"schule-bildung":          {"WLAN an Schulen", "Tablets für Grundschulen", "eine Lernplattform"},
		"buergerbeteiligung":      {"eine Beteiligungsplattform", "digitale Bürgerhaushalte", "Online-Dialoge"},
		"barrierefreiheit":        {"barrierefreie Webseiten", "Leichte Sprache online", "barrierefreie PDF-Formulare"},
		"geodaten-planung":        {"ein Geoportal", "digitale Bauleitplanung", "den digitalen Bauantrag"},
		"gesundheit-soziales":     {"digitale Gesundheitsämter", "das Wohngeld online", "die Kita-Platzvergabe online"},
		"verkehr-mobilitaet":      {"digitale Parkraumbewirtschaftung", "die Kfz-Zulassung online", "Mobilitätsdaten"},
		"low-code":                {"eine Low-Code-Plattform", "No-Code-Formulare", "Low-Code-Fachanwendungen"},
		"beschaffung":             {"die E-Vergabe", "eine Rahmenvereinbarung für Hardware", "zentrale IT-Beschaffung"},
		"strategie-politik":       {"eine Digitalstrategie", "das Onlinezugangsgesetz 2.0", "eine Digitalagenda"},
	}
)

type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, 0x6b32))} }

// weighted picks an index with probability proportional to w.
func (g *gen) weighted(w []float64) int {
	t := 0.0
	for _, x := range w {
		t += x
	}
	u := g.r.Float64() * t
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

var (
	landWeights = func() []float64 {
		w := make([]float64, len(laender))
		for i, l := range laender {
			w[i] = l.weight
		}
		return w
	}()
	topicWeights = func() []float64 {
		w := make([]float64, len(topics))
		for i := range w {
			w[i] = 1 / float64(i+1)
		}
		return w
	}()
)

// subscriber is one generated subscriber.
type subscriber struct {
	id             int64
	email, name    string
	cadence        string
	regions, topic []string
}

// subscriber i: 8% all regions, else their Land plus maybe one or two more,
// 40% of them with "DE" (bundesweit); 10% all topics, else 1–5 topics; 3% daily.
func (g *gen) subscriber(i int64) subscriber {
	f, l := firstNames[g.r.IntN(len(firstNames))], lastNames[g.r.IntN(len(lastNames))]
	s := subscriber{id: i, name: f + " " + l, cadence: "weekly"}
	s.email = fmt.Sprintf("%s.%s.%d@%s", ascii(f), ascii(l), i, domains[g.r.IntN(len(domains))])
	if g.r.Float64() < 0.03 {
		s.cadence = "daily"
	}
	if g.r.Float64() >= 0.08 {
		set := map[string]bool{}
		for k := 1 + g.weighted([]float64{55, 30, 15}); len(set) < k; {
			set[laender[g.weighted(landWeights)].code] = true
		}
		if g.r.Float64() < 0.4 {
			set["DE"] = true
		}
		s.regions = keys(set)
	}
	if g.r.Float64() >= 0.10 {
		set := map[string]bool{}
		for k := 1 + g.weighted([]float64{20, 25, 25, 18, 12}); len(set) < k; {
			set[topics[g.weighted(topicWeights)]] = true
		}
		s.topic = keys(set)
	}
	return s
}

// article is one generated article.
type article struct {
	id                   int64
	key, url             string
	title, kicker        string
	teaser               string
	published, ingested  time.Time
	regions, articleTops []string
}

// article i, published at random within (from, to]: 30% federal ("DE"),
// else one Land by population (10% a second one); 1–3 topics by popularity.
func (g *gen) article(i int64, from, to time.Time) article {
	a := article{id: i}
	span := to.Sub(from)
	a.published = from.Add(time.Duration(g.r.Int64N(int64(span)-int64(time.Hour))) + time.Hour).Truncate(time.Minute)
	a.ingested = a.published.Add(time.Duration(g.r.IntN(180)) * time.Minute)
	if a.ingested.After(to) {
		a.ingested = to
	}
	regions := map[string]bool{}
	if g.r.Float64() < 0.3 {
		regions["DE"] = true
		a.kicker = federal[g.r.IntN(len(federal))]
	} else {
		l := laender[g.weighted(landWeights)]
		regions[l.code] = true
		a.kicker = l.places[g.r.IntN(len(l.places))]
		if g.r.Float64() < 0.1 {
			l2 := laender[g.weighted(landWeights)]
			regions[l2.code] = true
			a.kicker += " / " + l2.places[g.r.IntN(len(l2.places))]
		}
	}
	tops := map[string]bool{}
	for k := 1 + g.weighted([]float64{50, 35, 15}); len(tops) < k; {
		tops[topics[g.weighted(topicWeights)]] = true
	}
	a.regions, a.articleTops = keys(regions), keys(tops)
	main := things[a.articleTops[0]]
	thing := main[g.r.IntN(len(main))]
	a.title = fmt.Sprintf("%s %s %s", strings.Fields(a.kicker)[0], verbs[g.r.IntN(len(verbs))], thing)
	a.teaser = fmt.Sprintf("%s: Nach monatelanger Vorbereitung geht es los. Die Verantwortlichen erwarten, dass Bürgerinnen, "+
		"Bürger und Unternehmen schneller ans Ziel kommen und die Beschäftigten von Routinearbeit entlastet werden. "+
		"Erste Ergebnisse sollen im Frühjahr vorliegen (Meldung %d).", a.kicker, i)
	a.key = fmt.Sprintf("bench-%d", i)
	a.url = fmt.Sprintf("https://www.kommune21.example/meldungen/2026/%d-%s.html", i, slug(a.title))
	return a
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var asciiFold = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue", "ş", "s", "ı", "i", "Ş", "S")

func ascii(s string) string { return strings.ToLower(asciiFold.Replace(s)) }

func slug(s string) string {
	var b strings.Builder
	for _, r := range ascii(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
