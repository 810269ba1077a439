package articles

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func mustTagger(t testing.TB) *Tagger {
	t.Helper()
	tg, err := DefaultTagger(testSet())
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestTagging measures the tagger on testdata/tagging.tsv, real headlines that
// the gazetteer and rules were not written from. Run with -v to see the figures
// and every miss.
func TestTagging(t *testing.T) {
	data, err := os.ReadFile("testdata/tagging.tsv")
	if err != nil {
		t.Fatal(err)
	}
	tg := mustTagger(t)
	var items, landOK, tp, fp, fn int
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("testdata/tagging.tsv line %d: want 5 tab-separated fields, got %d", n+1, len(f))
		}
		want := Tags{Regions: strings.Split(f[3], ","), Topics: strings.Split(f[4], ",")}
		got := tg.Tag(Text{Kicker: f[0], Title: f[1], Teaser: f[2]})
		items++
		if sameSet(got.Regions, want.Regions) {
			landOK++
		} else {
			t.Logf("line %d %q: regions %v, want %v", n+1, f[0]+": "+f[1], got.Regions, want.Regions)
		}
		var missed, extra []string
		for _, s := range got.Topics {
			if slices.Contains(want.Topics, s) {
				tp++
			} else {
				fp++
				extra = append(extra, s)
			}
		}
		for _, s := range want.Topics {
			if !slices.Contains(got.Topics, s) {
				fn++
				missed = append(missed, s)
			}
		}
		if len(missed)+len(extra) > 0 {
			t.Logf("line %d %q: topics missed %v, extra %v", n+1, f[0]+": "+f[1], missed, extra)
		}
	}
	acc := float64(landOK) / float64(items)
	prec := float64(tp) / float64(tp+fp)
	rec := float64(tp) / float64(tp+fn)
	f1 := 2 * prec * rec / (prec + rec)
	t.Logf("tagging set: %d items; Land exact-set accuracy %.3f (%d/%d); topics micro precision %.3f, recall %.3f, F1 %.3f",
		items, acc, landOK, items, prec, rec, f1)
	if items < 60 {
		t.Errorf("the tagging set has %d items, want at least 60", items)
	}
	if acc < 0.7 {
		t.Errorf("Land exact-set accuracy %.3f is under the floor of 0.7", acc)
	}
	if f1 < 0.4 {
		t.Errorf("topic micro-F1 %.3f is under the floor of 0.4", f1)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestTagging_SeedFeed checks every item of the sample feed (the seed news
// list): items whose kicker or text names a place get its Land, the others DE.
func TestTagging_SeedFeed(t *testing.T) {
	feed, err := ParseFeed("sample/kommune21.xml", "", SampleFeed)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"Low Code / No Code":        {"DE-NW"}, // "Am Niederrhein"
		"Registermodernisierung":    {"DE-NI"}, // "Pilotprojekt in Niedersachsen"
		"Prozessmanagement":         {"DE-ST"},
		"Studie":                    {"DE"},
		"factro":                    {"DE"},
		"Deutsche Verwaltungscloud": {"DE-HE"}, // ekom21
		"Wiesbaden":                 {"DE-HE"}, // not Berlin, although the teaser names it
		"Rosenheim":                 {"DE-BY"},
		"Magdeburg":                 {"DE-ST"},
		"AKDB":                      {"DE-BY"}, // not Komm.ONE's Baden-Württemberg
		"Halle (Saale)":             {"DE-ST"},
		"GovTech Deutschland":       {"DE"},
		"Digitale Barrierefreiheit": {"DE"},
		"Reutlingen":                {"DE-BW"},
		"München":                   {"DE-BY"}, // not Dresden's Sachsen
		"Thüringen":                 {"DE-TH"},
	}
	if len(feed.Items) != len(want) {
		t.Fatalf("sample feed has %d items, want %d", len(feed.Items), len(want))
	}
	tg := mustTagger(t)
	for _, it := range feed.Items {
		w, ok := want[it.Kicker]
		if !ok {
			t.Errorf("unexpected item kicker %q", it.Kicker)
			continue
		}
		got := tg.Tag(Text{Kicker: it.Kicker, Title: it.Title, Teaser: it.Teaser, Categories: it.Categories})
		if !slices.Equal(got.Regions, w) {
			t.Errorf("%s: %s: regions %v, want %v", it.Kicker, it.Title, got.Regions, w)
		}
	}
}

func TestTagger_Cases(t *testing.T) {
	tg := mustTagger(t)
	cases := []struct {
		name        string
		text        Text
		wantRegions string
		wantTopics  string // "" = don't care
	}{
		{"categories name the region and topic", Text{Title: "Neues aus Wiesbaden", Categories: []string{"thüringen", "OZG"}}, "DE-TH", "ozg-onlinedienste"},
		{"category code and slug", Text{Title: "x", Categories: []string{"de-by", "IT-Sicherheit", "smart-city"}}, "DE-BY", "it-sicherheit,smart-city"},
		{"category names a city", Text{Title: "x", Categories: []string{"Rosenheim"}}, "DE-BY", ""},
		{"unrelated categories are ignored", Text{Kicker: "Kiel", Title: "x", Categories: []string{"Meldungen"}}, "DE-SH", ""},
		{"two places in the kicker", Text{Kicker: "Mönchengladbach / Wiesbaden", Title: "Kooperation"}, "DE-HE,DE-NW", ""},
		{"Kreis in the kicker", Text{Kicker: "Kreis Paderborn", Title: "Neues Portal"}, "DE-NW", ""},
		{"Landkreis prefers the Kreis", Text{Kicker: "Landkreis Harburg", Title: "Neues Portal"}, "DE-NI", ""},
		{"Halle alone is the larger Halle", Text{Title: "Halle digitalisiert Bürgeramt"}, "DE-ST", ""},
		{"Halle (Westf.)", Text{Title: "Halle (Westf.) digitalisiert Bürgeramt"}, "DE-NW", ""},
		{"Frankfurt (Oder)", Text{Kicker: "Frankfurt (Oder)", Title: "x"}, "DE-BB", ""},
		{"Frankfurt alone", Text{Kicker: "Frankfurt", Title: "x"}, "DE-HE", ""},
		{"ambiguous Frankenberg is left out", Text{Title: "Frankenberg führt E-Akte ein"}, "DE", ""},
		{"context decides Frankenberg", Text{Title: "Frankenberg führt E-Akte ein", Teaser: "Die Stadt im Landkreis Mittelsachsen setzt auf eine sächsische Lösung."}, "DE-SN", ""},
		{"adjective", Text{Title: "Die niedersächsischen Kommunen und das Land"}, "DE-NI", ""},
		{"adjective capitalised", Text{Title: "Bayerisches Staatsministerium startet Portal"}, "DE-BY", ""},
		{"genitive", Text{Title: "Berlins neue Digitalstrategie"}, "DE-BE", ""},
		{"compound", Text{Title: "Thüringen-Portal freigeschaltet"}, "DE-TH", ""},
		{"camel-case compound", Text{Title: "Neue Karten im BayernAtlas"}, "DE-BY", ""},
		{"camel-case compound after a digit", Text{Kicker: "5fürSüdwestfalen", Title: "Eine Dateninfrastruktur"}, "DE-NW", ""},
		{"a small town in a camel-case compound is no place", Text{Title: "Die AllensbachStudie zur Behördennummer"}, "DE", ""},
		{"organisation in any case", Text{Title: "EKOM21 meldet Rekord"}, "DE-HE", ""},
		{"lowercase place names are words", Text{Title: "Sie essen und senden nur Wissen zur Lage", Teaser: "Weil das Wetter gut ist"}, "DE", ""},
		{"common nouns that are towns", Text{Title: "Wissen teilen: Senden und Empfangen an dieser Stelle"}, "DE", ""},
		{"no place", Text{Kicker: "OZG", Title: "Bilanz nach fünf Jahren"}, "DE", "ozg-onlinedienste"},
		{"weak organisation only without other places", Text{Kicker: "Dataport", Title: "Hamburg führt E-Akte ein"}, "DE-HH", ""},
		{"Sachsen-Anhalt is not Sachsen", Text{Title: "Sachsen-Anhalt startet Portal"}, "DE-ST", ""},
		{"Berlin-Brandenburg", Text{Title: "Flughafen Berlin-Brandenburg digitalisiert"}, "DE-BE,DE-BB", ""},
		{"AI acronym is case-sensitive", Text{Title: "Die Kita im Ort"}, "DE", ""},
		{"small Gemeinde after Gemeinde", Text{Title: "Die Gemeinde Zwota führt die E-Akte ein"}, "DE-SN", ""},
		{"small Gemeinde alone in the kicker", Text{Kicker: "Zwota", Title: "E-Akte eingeführt"}, "DE-SN", ""},
		{"small Gemeinde without a cue does not count", Text{Title: "Zwota führt die E-Akte ein"}, "DE", ""},
		{"Verbandsgemeinde", Text{Title: "Homepage der Verbandsgemeinde Arzfeld erneuert"}, "DE-RP", ""},
		{"Regierungsbezirk", Text{Title: "Oberbayern bündelt die IT"}, "DE-BY", ""},
		{"genitive of a hyphenated Land", Text{Title: "Sachsen-Anhalts CIO über die digitale Zukunft"}, "DE-ST", ""},
		{"a small town in a compound is no place", Text{Title: "Allensbach-Umfrage zur Behördennummer"}, "DE", ""},
		{"Stadt keeps the town of a Kreis of the same name", Text{Title: "Papierlose Sitzung bei der Stadt Heidenheim"}, "DE-BW", ""},
		{"demonym of a town", Text{Title: "Auf Anregung der Wermelskirchener Grünen"}, "DE-NW", ""},
		{"a national body meeting in a city is nationwide", Text{Title: "IT-Planungsrat beschließt Strategie", Teaser: "Die Mitglieder trafen sich in Düsseldorf."}, "DE", ""},
		{"a national body meeting in Berlin is nationwide", Text{Title: "BSI im Dialog", Teaser: "Das BSI lud Gäste nach Berlin ein."}, "DE", ""},
		{"a city named otherwise still counts with a national body", Text{Title: "Düsseldorf startet App", Teaser: "Das BSI hat sie geprüft."}, "DE-NW", ""},
		{"a city in a regional article still counts", Text{Title: "Die Behördennummer 115 ist bundesweit erreichbar", Teaser: "Ab heute auch in Bremen."}, "DE-HB", ""},
		{"a hyphenated line break is one word", Text{Title: "Experten aus den nieder-sächsischen Landkreisen"}, "DE-NI", ""},
		{"the title's place wins over the teaser's", Text{Title: "Wird Weißenhorn eine smarte Stadt?", Teaser: "Eine Referentin aus Ulm nennt Beispiele."}, "DE-BY", ""},
		{"the teaser counts when the title names no place", Text{Title: "Smarte Stadt", Teaser: "Eine Referentin aus Ulm nennt Beispiele."}, "DE-BW", ""},
		{"genitive of a Kreis", Text{Title: "Das Landratsamt des Saale-Orla-Kreises führt die E-Akte ein"}, "DE-TH", ""},
		{"a demonym that is a first name does not count", Text{Title: "Staatssekretär Werner Koch zur Cybersicherheit"}, "DE", ""},
		{"a Gemeinde of the official list that GeoNames lacks", Text{Kicker: "Geestland", Title: "Rollendes Rathaus"}, "DE-NI", ""},
		{"a town named with its official qualifier resolves the short name", Text{Title: "Stadt Dillingen öffnet ein virtuelles Rathaus", Teaser: "Die City-App „Dillingen Saar“ hilft dabei."}, "DE-SL", ""},
		{"an unknown population does not lose to a village", Text{Title: "Neue Homepage der Gemeinde Petersberg"}, "DE", ""},
		{"the administration of a Gemeindeverband", Text{Title: "Die Amtsverwaltung Hüttener Berge bietet Termine online"}, "DE-SH", ""},
		{"a type word of one Land when no place is named", Text{Teaser: "In der Samtgemeindeverwaltung gibt es künftig einen Termintag."}, "DE-NI", ""},
		{"a web address names its organisation", Text{Teaser: "Informationen finden Bürger unter „www.service-bw.de“."}, "DE-BW", ""},
		{"a web address names its Gemeinde", Text{Teaser: "Die Stadt stellt alles unter www.dillingen-saar.de bereit."}, "DE-SL", ""},
		{"a region of two Länder narrowed by the Kreis named", Text{Title: "Digitalisierung in der Eifel", Teaser: "Der Landkreis Vulkaneifel bucht Termine online."}, "DE-RP", ""},
		{"a venue beside another Land does not count", Text{Teaser: "Der Verwaltungsrat stimmte in Hamburg zu, dass die schleswig-holsteinischen Kommunen Träger werden."}, "DE-SH", ""},
		{"a dateline of a federal report does not count", Text{Kicker: "Bundesregierung", Title: "Wie der Start des Digitalministeriums gelingt", Teaser: "Berlin. Der Minister stellt sich vor."}, "DE", ""},
		{"a national body in the teaser leaves the title's venue", Text{Title: "Digitaler Bauantrag in Kulmbach gestartet", Teaser: "Die Abgeordnete (Bundestag) besuchte das Amt."}, "DE-BY", ""},
		{"a paper named after a city does not count", Text{Title: "Forderungen für die Verwaltung von morgen", Teaser: "Die Dresdner Forderungen sind eine Grundlage."}, "DE", ""},
		{"an organisation written with a space for its hyphen", Text{Title: "Austritt aus eGo Saar?"}, "DE-SL", ""},
		{"Berlin only as a venue is nationwide", Text{Title: "Neuer Standort in Berlin", Teaser: "Der Campus hat ein neues Gebäude bezogen."}, "DE", ""},
		{"Berlin named otherwise keeps its venue", Text{Title: "Berliner Bürgerämter öffnen wieder", Teaser: "Termine gibt es in Berlin online."}, "DE-BE", ""},
		{"Berlin as a venue leaves another Land's place", Text{Title: "Preis in Berlin verliehen", Teaser: "Die Stadt Ulm gewinnt."}, "DE-BW", ""},
		{"Berlin as a venue beside another Land's venue in the same part", Text{Title: "Neue Standorte in Hamburg und in Berlin"}, "DE-HH", ""},
		{"a cue before von", Text{Teaser: "Der Bürgermeister von Chiemsee freut sich."}, "DE-BY", ""},
		{"seat of a federal authority", Text{Title: "Bundeskanzler beim Statistischen Bundesamt", Teaser: "Er besuchte das Amt in Wiesbaden."}, "DE", ""},
		{"Standort of a federal authority", Text{Title: "Besuch beim Bundeskriminalamt Standort Wiesbaden"}, "DE", ""},
		{"federal authority without Bundes", Text{Teaser: "Der Deutsche Wetterdienst in Offenbach kauft einen Rechner."}, "DE", ""},
		{"a federal programme in a town stays the town's", Text{Title: "Bundesamt fördert Smart City Ulm"}, "DE-BW", ""},
		{"demonym with the city's own office is the city", Text{Title: "Der Frankfurter Oberbürgermeister zu Besuch im Bundesamt"}, "DE-HE", ""},
		{"Rheinland-Pfälzer is not the Rheinland", Text{Teaser: "Die Rheinland-Pfälzer sollen online Ausweise beantragen."}, "DE-RP", ""},
		{"Kreis without -Kreis", Text{Teaser: "Rems-Murr. Beim Begriff Barrierefreiheit denken viele an Rampen."}, "DE-BW", ""},
		{"demonym of a town of two words", Text{Teaser: "Das Schwäbisch Gmünder Rathaus wird digital."}, "DE-BW", ""},
		{"agency dateline of a federal body's report", Text{Title: "Deutscher Wetterdienst rüstet auf", Teaser: "Offenbach/Stuttgart (dpa) – Der DWD kauft einen Rechner."}, "DE", ""},
		{"agency dateline without a federal body counts", Text{Title: "Rechner", Teaser: "Offenbach (dpa) – Die Stadt kauft einen Rechner."}, "DE-HE", ""},
		{"a university's seat gives way to another Land", Text{Teaser: "Die Kreisverwaltung Ahrweiler liegt laut einer Studie der Hochschule Bremerhaven vorn."}, "DE-RP", ""},
		{"a university's seat alone counts", Text{Title: "Hochschule Bremerhaven startet Studiengang"}, "DE-HB", ""},
		{"a castle's name is no place", Text{Teaser: "Auf Burg Lichtenberg im Landkreis Kusel gibt es digitale Attraktionen."}, "DE-RP", ""},
		{"Burg alone is the town", Text{Title: "Stadt Burg startet Portal"}, "DE-ST", ""},
		{"part of a Land", Text{Kicker: "Nordthüringen", Title: "Alternative zur Cloud"}, "DE-TH", ""},
		{"a Land ministry resolves an ambiguous town", Text{Kicker: "Landau", Title: "Auszeichnung", Teaser: "Das Staatsministerium Digitales schickte ein Schild."}, "DE-BY", ""},
		{"demonym of a Land of two names", Text{Teaser: "Die Schleswig-Holsteiner sollen Anträge online stellen."}, "DE-SH", ""},
		{"demonym of a Land of two names beside its capital", Text{Teaser: "Die Sachsen-Anhalter können bald alles online beantragen, teilte die Staatskanzlei in Magdeburg mit."}, "DE-ST", ""},
		{"a compound's longest run of parts", Text{Title: "Das Sachsen-Anhalt-Portal wächst"}, "DE-ST", ""},
		{"genitive in -es", Text{Teaser: "Das Förderprogramm des Saarlandes läuft aus."}, "DE-SL", ""},
		{"demonym of a Kreis's town", Text{Title: "Das Passauer Rathaus wird digital"}, "DE-BY", ""},
		{"demonym of an -ingen town", Text{Teaser: "Die Website des Tuttlinger Landratsamtes ist wieder erreichbar."}, "DE-BW", ""},
		{"a merged Berlin Bezirk", Text{Teaser: "Das Bezirksamt Treptow-Köpenick bietet Termine online an."}, "DE-BE", ""},
		{"a Berlin Bezirk after in is no federal venue", Text{Teaser: "Wie digital arbeiten die Ämter in Spandau?"}, "DE-BE", ""},
		{"a Bezirksamt makes the Hamburg Bezirk", Text{Teaser: "Harburg - Die Bezirksämter öffnen wieder."}, "DE-HH", ""},
		{"an island", Text{Title: "Minister besucht Föhr"}, "DE-SH", ""},
		{"a Land body whose type word is one Land's", Text{Teaser: "Die Senatsverwaltung für Inneres startet ein Programm."}, "DE-BE", ""},
		{"a federal body's seat counts nowhere in the article", Text{Kicker: "Bonn", Title: "Neue Zentrale", Teaser: "Das Bundesamt mit Sitz in Bonn zieht um."}, "DE", ""},
		{"a federal body's seat a few words after Sitz", Text{Title: "Magdeburg wird Zentrum", Teaser: "Der Sitz der neuen Bundesanstalt soll in Magdeburg sein."}, "DE", ""},
		{"a federal programme in a town with Standort stays the town's", Text{Title: "Jena wird Zentrum", Teaser: "Das Bundesministerium fördert den Standort der Firma in Jena."}, "DE-TH", ""},
		{"a federal body's seat written as a demonym", Text{Kicker: "Wiesbaden", Title: "Wiesbadener Bundeskriminalamt wächst"}, "DE", ""},
		{"a dateline with a dash", Text{Teaser: "Berlin - Alle Bundesverwaltungen sind angeschlossen."}, "DE", ""},
		{"a wire service's dateline with two hyphens", Text{Title: "Städtebund: Für digitale Kommune Milliarden nötig", Teaser: "BERLIN (Dow Jones)--Für drei Viertel der Kommunen fehlt Geld, ergab eine Umfrage des Deutschen Städte- und Gemeindebundes (DStGB)."}, "DE", ""},
		{"a dateline with a colon", Text{Teaser: "Berlin: (hib) Die Bundesregierung plant eine Anstalt."}, "DE", ""},
		{"a ranking of cities in three Länder is nationwide", Text{Title: "Smart City Index: Ulm vorn", Teaser: "Dahinter folgen Köln und Leipzig."}, "DE", ""},
		{"a ranking of one city is the city's", Text{Title: "Smart City Index: Ulm vorn", Teaser: "Die Stadt legt zu."}, "DE-BW", ""},
		{"a university as a study's author", Text{Teaser: "Eine Studie der TU Dresden zeigt, wie Kommunen in Deutschland digitalisieren."}, "DE", ""},
		{"a name after a cue resolves the same way elsewhere", Text{Title: "Ministerin besucht Reichenbach", Teaser: "Reichenbach. Die hessische Ministerin war in Reichenbach zu Gast."}, "DE-HE", ""},
		{"a small Gemeinde listed beside other places", Text{Kicker: "Vöhl, Lichtenfels, Waldeck", Title: "Gemeinsame Online-Dienste"}, "DE-HE", ""},
		{"Berlin beside a Land and the Bund stands for the Bund", Text{Title: "Bayern kooperiert mit dem Bund: Berlin und München arbeiten zusammen"}, "DE-BY", ""},
		{"Berlin named as the Land beside another Land stays", Text{Title: "Das Land Berlin und Bayern kooperieren mit dem Bund"}, "DE-BE,DE-BY", ""},
		{"a web address with a transliterated umlaut", Text{Title: "thueringen.de weiter in der Warteschleife"}, "DE-TH", ""},
		{"a web address of a Kreis with its type word", Text{Teaser: "Über die Seite www.landkreis-gotha.de können Bürger mit dem Landrat sprechen."}, "DE-TH", ""},
		{"a Land of two names in camel case", Text{Teaser: "Im Auftrag der Länder Bayern, Baden-Württemberg und RheinlandPfalz entwickelt die Firma Schulverwaltungslösungen."}, "DE-BY,DE-BW,DE-RP", ""},
		{"the demonym of a city named with its river", Text{Title: "Online-Bezahlung verzögert sich", Teaser: "Wir Mülheimer sollen die Dienstleistungen der Stadt im Internet bezahlen können."}, "DE-NW", ""},
		{"a city-state listed with another Land is no venue", Text{Title: "Elterngeld digital", Teaser: "Jetzt verlagert das Familienministerium die Bürokratie ins Internet. In Berlin und Sachsen kann der Antrag schon online erledigt werden."}, "DE-BE,DE-SN", ""},
		{"a web address with oe for ö", Text{Title: "Das Stadtportal www.koeln.de wird neu gestaltet"}, "DE-NW", ""},
		{"a teaser's Land adjective before a Landkreis adds the Land", Text{Title: "Hochschule aus NRW besucht KI-Vorreiter", Teaser: "Die Hochschule war zu Gast im niedersächsischen Landkreis Lüchow-Dannenberg."}, "DE-NW,DE-NI", ""},
		{"a teaser's Landrat from another Kreis adds its Land", Text{Title: "Landrat erörtert KI-Potenziale in Kyritz", Teaser: "Gestern reiste Christian Schulze Pellengahr, Landrat aus Coesfeld, in den Partnerkreis."}, "DE-BB,DE-NW", ""},
		{"a teaser's speaker from another town adds nothing", Text{Title: "Wird Weißenhorn eine smarte Stadt?", Teaser: "Eine Referentin aus Ulm nennt in Weißenhorn zahlreiche Beispiele."}, "DE-BY", ""},
		{"towns in five Länder are nationwide", Text{Title: "Preise für digitale Teilhabe", Teaser: "Sechs Mitgliedstädte erhielten Preise: Bremerhaven, Frankfurt am Main, Kempten (Allgäu), Kiel, Nürnberg und Recklinghausen."}, "DE", ""},
		{"towns in four Länder are those Länder", Text{Title: "Preise für digitale Teilhabe", Teaser: "Vier Städte erhielten Preise: Bremerhaven, Frankfurt am Main, Kiel und Nürnberg."}, "DE-HB,DE-HE,DE-SH,DE-BY", ""},
		{"a town's name after a first name is a surname", Text{Teaser: "Die Daten helfen, sagte Hauptgeschäftsführer Gerd Landsberg der Zeitung."}, "DE", ""},
		{"the town itself after a cue still counts", Text{Teaser: "Die Stadtverwaltung in Landsberg am Lech stellt auf E-Akten um."}, "DE-BY", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tg.Tag(c.text)
			if r := strings.Join(got.Regions, ","); !sameSet(strings.Split(r, ","), strings.Split(c.wantRegions, ",")) {
				t.Errorf("regions = %s, want %s", r, c.wantRegions)
			}
			if c.wantTopics != "" && strings.Join(got.Topics, ",") != c.wantTopics {
				t.Errorf("topics = %s, want %s", strings.Join(got.Topics, ","), c.wantTopics)
			}
		})
	}
}

// The uncertain region decisions carry a doubt, so that `digest articles
// review` lists them for staff.
func TestTagger_RegionDoubts(t *testing.T) {
	tg := mustTagger(t)
	for _, c := range []struct {
		name  string
		text  Text
		doubt string
	}{
		{"type word", Text{Teaser: "Die Verbandsgemeindeverwaltung bietet Termine online an."}, `Land only from the word "Verbandsgemeindeverwaltung" (no place named)`},
		{"Berlin venue", Text{Title: "Neuer Standort in Berlin"}, "Berlin in title is only a venue: ignored"},
		{"dateline", Text{Kicker: "Bundesregierung", Title: "Start", Teaser: "Berlin. Der Minister spricht."}, `"Berlin" in teaser is only the dateline of a report on Bundesregierung: ignored`},
		{"unknown population", Text{Title: "Gemeinde Petersberg"}, `ambiguous place "Petersberg" in title ignored`},
	} {
		t.Run(c.name, func(t *testing.T) {
			ex := tg.Explain(c.text)
			if !slices.Contains(ex.Doubts, c.doubt) {
				t.Errorf("regions %v, doubts %q: want %q", ex.Tags.Regions, ex.Doubts, c.doubt)
			}
		})
	}
}
