package articles

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed gazetteer/places.tsv gazetteer/extra.tsv gazetteer/stop.txt gazetteer/firstnames.txt
var gazetteerFS embed.FS

// Gazetteer maps names found in German news text (cities, Kreise, Länder and
// their adjectives, regions, public IT organisations) to Länder.
//
// Names are matched as whole words, longest first ("Halle (Saale)" before
// "Halle"). Places must be written with a capital initial; organisations and
// adjectives match in any case. A name that several places in different Länder
// share is resolved by the Land named elsewhere in the article, then by a
// "Kreis"/"Stadt" before it, then by size: the largest place wins only when it
// is at least twice as large as the next; otherwise the name is ignored.
type Gazetteer struct {
	names    map[string]*gazEntry
	stop     map[string]bool
	first    map[string]bool // first names: a place after one is a surname
	maxWords int
}

type gazEntry struct {
	fixed   []string // Länder of a hand-written entry; when set, places are ignored
	kind    string   // kind of the hand-written entry (land, adj, org, region, place)
	weak    bool     // an organisation serving several Länder: used only when nothing else names a Land
	anyCase bool
	places  []candidate
}

type candidate struct {
	land string
	pop  int
	kind string // stadt, kreis, ort, teil, klein, verband, bezirk
	town bool   // a Kreis whose Land also has a town of the same name ("Heidenheim")
}

// adjEndings are the German endings an adjective stem ("bayerisch*") takes.
var adjEndings = []string{"", "e", "en", "er", "es", "em"}

// LoadGazetteer reads the embedded tables: places.tsv (generated), extra.tsv
// (hand-written), stop.txt (names never matched) and firstnames.txt (first
// names, after which a place's name is a surname).
func LoadGazetteer() (*Gazetteer, error) {
	g := &Gazetteer{names: map[string]*gazEntry{}, stop: map[string]bool{}, first: map[string]bool{}}
	for _, f := range []struct {
		name string
		load func(io.Reader, string) error
	}{{"gazetteer/stop.txt", g.loadStop}, {"gazetteer/firstnames.txt", g.loadFirstNames}, {"gazetteer/places.tsv", g.loadPlaces}, {"gazetteer/extra.tsv", g.loadExtra}} {
		r, err := gazetteerFS.Open(f.name)
		if err != nil {
			return nil, err
		}
		err = f.load(r, f.name)
		r.Close()
		if err != nil {
			return nil, err
		}
	}
	g.addDemonyms()
	g.addCompassParts()
	return g, nil
}

// compassPrefixes name the part of a Land: "Nordthüringen", "Mittelhessen".
var compassPrefixes = []string{"nord", "süd", "ost", "west", "mittel", "nordwest", "nordost", "südwest", "südost"}

// addCompassParts adds "Nordhessen", "Ostbayern", "Südthüringen" … for
// every Land of one word, as a region of that Land, unless the form is
// already known ("Nordsachsen" is a Kreis, "Südwestfalen" a region).
func (g *Gazetteer) addCompassParts() {
	for key, e := range g.names {
		if e.kind != "land" || len(e.fixed) != 1 || strings.ContainsAny(key, " -") {
			continue
		}
		for _, p := range compassPrefixes {
			if _, ok := g.names[p+key]; ok {
				continue
			}
			c := g.entry(p + key)
			c.fixed, c.kind = e.fixed, "region"
		}
	}
}

func eachLine(r io.Reader, file string, fn func(line int, fields []string) error) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if err := fn(n, strings.Split(text, "\t")); err != nil {
			return fmt.Errorf("%s line %d: %w", file, n, err)
		}
	}
	return sc.Err()
}

func (g *Gazetteer) loadStop(r io.Reader, file string) error {
	return eachLine(r, file, func(_ int, f []string) error {
		g.stop[nameKey(f[0])] = true
		return nil
	})
}

func (g *Gazetteer) loadFirstNames(r io.Reader, file string) error {
	return eachLine(r, file, func(_ int, f []string) error {
		g.first[strings.ToLower(f[0])] = true
		return nil
	})
}

func (g *Gazetteer) entry(key string) *gazEntry {
	e := g.names[key]
	if e == nil {
		e = &gazEntry{}
		g.names[key] = e
		g.maxWords = max(g.maxWords, strings.Count(key, " ")+1)
	}
	return e
}

func (g *Gazetteer) loadPlaces(r io.Reader, file string) error {
	return eachLine(r, file, func(_ int, f []string) error {
		if len(f) != 4 || !validLand(f[1]) {
			return fmt.Errorf("want name, Land code, population and kind separated by tabs, got %q", strings.Join(f, "\t"))
		}
		pop, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("population %q is not a number", f[2])
		}
		c := candidate{land: f[1], pop: pop, kind: f[3]}
		for _, name := range placeAliases(f[0]) {
			g.addPlace(nameKey(name), c)
		}
		// "Rems-Murr-Kreis" is written "Rems-Murr" too ("Rems-Murr. Beim …",
		// "im Rhein-Sieg"): a hyphenated Kreis name without "-Kreis"
		if stem, ok := strings.CutSuffix(f[0], "-Kreis"); ok && f[3] == "kreis" && strings.Contains(stem, "-") {
			g.addPlace(nameKey(stem), c)
		}
		return nil
	})
}

func (g *Gazetteer) addPlace(key string, c candidate) {
	if key == "" {
		return
	}
	e := g.entry(key)
	for i, p := range e.places {
		if p.land == c.land { // one candidate per Land: the largest
			town := p.town || c.town || (p.kind == "kreis") != (c.kind == "kreis")
			if c.pop > p.pop {
				e.places[i] = c
			}
			e.places[i].town = town
			return
		}
	}
	e.places = append(e.places, c)
}

// placeAliases returns a place's name and the short name news text uses:
// "Halle (Saale)" → "Halle", "Frankfurt am Main" → "Frankfurt".
func placeAliases(name string) []string {
	out := []string{name}
	if i := strings.Index(name, " ("); i > 0 {
		out = append(out, name[:i])
	}
	for _, sep := range []string{" am ", " an der ", " an den ", " im ", " in ", " bei ", " ob der ", " vor der "} {
		if i := strings.Index(name, sep); i > 0 {
			out = append(out, name[:i])
			break
		}
	}
	return out
}

func (g *Gazetteer) loadExtra(r io.Reader, file string) error {
	return eachLine(r, file, func(_ int, f []string) error {
		if len(f) < 3 {
			return fmt.Errorf("want name, Land codes and kind separated by tabs, got %q", strings.Join(f, "\t"))
		}
		lands := strings.Split(f[1], ",")
		for _, l := range lands {
			if !validLand(l) {
				return fmt.Errorf("%q is not a Land code such as DE-BY", l)
			}
		}
		kind := f[2]
		names := []string{f[0]}
		switch kind {
		case "org":
			// "eGo-Saar" is also written "eGo Saar", "IT Baden-Württemberg" never "IT-Baden-…"
			if strings.Contains(f[0], "-") && !strings.Contains(f[0], " ") {
				names = append(names, strings.ReplaceAll(f[0], "-", " "))
			}
		case "land", "region", "demonym":
		case "adj":
			stem := strings.TrimSuffix(f[0], "*")
			names = names[:0]
			for _, end := range adjEndings {
				names = append(names, stem+end)
			}
		default:
			return fmt.Errorf("kind %q: use land, adj, demonym, org or region", kind)
		}
		for _, n := range names {
			e := g.entry(nameKey(n))
			e.fixed = lands
			e.kind = kind
			e.weak = kind == "org" && len(lands) > 1
			e.anyCase = kind == "org" || kind == "adj"
		}
		return nil
	})
}

// addDemonyms adds "Kölner", "Leipziger", "Wermelskirchener", "Tübinger" … for
// kreisfreie Städte of 100,000 and more and for towns of 10,000 and more
// whose name belongs to one Land only, unless the form is already known (the
// irregular ones are in extra.tsv).
func (g *Gazetteer) addDemonyms() {
	for key, e := range g.names {
		if e.fixed != nil || strings.ContainsAny(key, "-.") || g.stop[key] {
			continue
		}
		for _, c := range e.places {
			// a city of 100,000 whatever GeoNames calls it: "Mülheim" keeps
			// the larger figure of an "ort" beside "Mülheim an der Ruhr"
			big := (c.kind == "stadt" || c.kind == "ort") && c.pop >= 100000
			// "Werne" → "Werner" is a first name: towns ending in -e get none
			// a Kreis named after its town ("Tübingen", "Passau") is the town too
			town := (c.kind == "ort" || c.kind == "stadt" || c.kind == "kreis" && c.town) && c.pop >= 10000 && len(e.places) == 1 && !strings.HasSuffix(key, "e")
			if !big && !town {
				continue
			}
			dem := key + "er"
			if strings.HasSuffix(key, "e") {
				dem = key + "r"
			}
			if stem, ok := strings.CutSuffix(key, "ingen"); ok && len(key) > 6 {
				// "Meininger", "Tübinger", "Göttinger"; but "Singener", "Lingener"
				dem = stem + "inger"
			}
			if _, ok := g.names[dem]; !ok && !g.stop[dem] {
				d := g.entry(dem)
				d.fixed, d.kind = []string{c.land}, "demonym"
			}
		}
	}
}

func validLand(code string) bool {
	return len(code) == 5 && strings.HasPrefix(code, "DE-") && code[3] >= 'A' && code[3] <= 'Z' && code[4] >= 'A' && code[4] <= 'Z'
}

// token is a word of text: letters and digits, with inner hyphens, dots and apostrophes.
type token struct {
	orig, lower string
}

func tokenize(s string) []token {
	var out []token
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := strings.TrimRight(s[start:end], ".-'’")
		if w != "" {
			out = append(out, token{orig: w, lower: strings.ToLower(w)})
		}
		start = -1
	}
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		inner := (r == '-' || r == '.' || r == '\'' || r == '’') && start >= 0
		switch {
		case word:
			if start < 0 {
				start = i
			}
		case inner:
			// kept only when a letter or digit follows ("Komm.ONE", "Rhein-Sieg-Kreis")
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if !(unicode.IsLetter(next) || unicode.IsDigit(next) || next == '-') {
				flush(i)
			}
		default:
			flush(i)
		}
	}
	flush(len(s))
	return out
}

// nameKey is the lookup key of a name: its tokens, lower case, joined by spaces.
func nameKey(name string) string {
	toks := tokenize(name)
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.lower
	}
	return strings.Join(parts, " ")
}

// hit is one name found in text.
type hit struct {
	name  string
	entry *gazEntry
	prev  string // the word before the name, lower case
	prev2 string // the word before that
	next  string // the word after the name, lower case
	whole bool   // the name is the whole text (a kicker such as "Huy")
	// domain: the name is a web address ("www.petersberg.de"), which a
	// Gemeinde's own site names as surely as a cue word does
	domain bool
	// cued: the same name stands after a cue word elsewhere in the article
	// ("Reichenbach. … Bei ihrem Besuch in Reichenbach"), so it is a place
	// name here too and resolves the same way
	cued bool
	// bezirk: the article speaks of a Bezirksamt, so a name that is also a
	// Bezirk of Berlin or Hamburg is that Bezirk ("Harburg - … Bezirksämter")
	bezirk bool
	// listed: the word before or after the name is a place too ("Vöhl,
	// Lichtenfels, Waldeck"), so the name is one of a list of places
	listed bool
	// sitz: "in" before the name follows a seat word a few words back ("Sitz
	// der Anstalt soll in Frankfurt sein")
	sitz bool
}

// sitzBefore reports whether one of the six words before the last ("in") is a seat word
// ("Sitz", "Dienstsitz", "Hauptsitz"; not "Standort", which a company has).
func sitzBefore(toks []token) bool {
	for j := len(toks) - 1; j >= 0 && j >= len(toks)-7; j-- {
		if w := toks[j].lower; w == "sitz" || w == "dienstsitz" || w == "hauptsitz" {
			return true
		}
	}
	return false
}

// cue reports whether the word before the hit makes a small Gemeinde count.
func (h hit) cue() bool {
	// "Bürgermeister von Chiemsee": the cue may stand before "von"
	return smallCue[h.prev] || h.prev == "von" && smallCue[h.prev2] && h.prev2 != "in" && h.prev2 != "aus" && h.prev2 != "nach"
}

// smallCue are the words before a name that make a small Gemeinde (kind
// klein) count: without one, a village whose name is also a word or a
// surname ("Berg", "Wald", "Elsterheide") would fire in ordinary sentences.
var smallCue = map[string]bool{
	"gemeinde": true, "stadt": true, "markt": true, "marktgemeinde": true, "ortsgemeinde": true,
	"samtgemeinde": true, "verbandsgemeinde": true, "amt": true, "kommune": true, "dorf": true,
	"bürgermeister": true, "bürgermeisterin": true, "ortsbürgermeister": true, "ortsbürgermeisterin": true,
	"stadtverwaltung": true, "gemeindeverwaltung": true, "rathaus": true, "bürgerbüro": true,
	"in": true, "aus": true, "nach": true,
}

// find returns the names in text, longest match first, left to right.
func (g *Gazetteer) find(text string) []hit {
	toks := tokenize(text)
	for i := range toks {
		// "Verbandsgemeindeverwaltung Wittlich-Land" is the administration of
		// "Verbandsgemeinde Wittlich-Land": match it under the type word
		if w, ok := verbandAdmin[toks[i].lower]; ok && i+1 < len(toks) {
			if r, _ := utf8.DecodeRuneInString(toks[i+1].orig); unicode.IsUpper(r) {
				toks[i] = token{orig: w, lower: strings.ToLower(w)}
			}
		}
	}
	var hits []hit
	for i := 0; i < len(toks); {
		n := g.matchAt(toks, i, &hits)
		if n > 0 {
			i += n
			continue
		}
		t := toks[i]
		prev := ""
		if i > 0 {
			prev = toks[i-1].lower
		}
		if h, ok := g.domainHit(t); ok {
			if h.prev == "" {
				h.prev = prev
			}
			hits = append(hits, h)
			i++
			continue
		}
		if strings.HasSuffix(t.lower, "s") && len(t.lower) > 4 {
			// genitive: "Berlins", "Bayerns", "Sachsen-Anhalts", "des Saale-Orla-Kreises"
			e, ok := g.lookup(strings.TrimSuffix(t.lower, "s"), t.orig)
			if !ok && strings.HasSuffix(t.lower, "es") {
				// "des Saale-Orla-Kreises", "des Saarlandes", "des Emslandes"
				e, ok = g.lookup(strings.TrimSuffix(t.lower, "es"), t.orig)
			}
			if ok && (e.genitiveOK() || strings.HasSuffix(t.lower, "kreises")) {
				hits = append(hits, hit{name: t.orig, entry: e, prev: prev})
				i++
				continue
			}
		}
		if strings.Contains(t.lower, "-") {
			// a word broken across a line ("nieder-sächsischen") is one word
			joined := strings.ReplaceAll(t.lower, "-", "")
			if e, ok := g.lookup(joined, strings.ReplaceAll(t.orig, "-", "")); ok && e.fixed != nil && e.kind == "adj" {
				hits = append(hits, hit{name: t.orig, entry: e, prev: prev})
				i++
				continue
			}
			// "Berlin-Brandenburg", "Thüringen-Portal": the parts of a compound
			// that name a Land, a region or a big city ("Allensbach-Umfrage"
			// names a polling institute, not the village)
			// names, longest run of parts first: "Sachsen-Anhalt-Portal" is
			// Sachsen-Anhalt, not Sachsen and Anhalt
			origParts := strings.Split(t.orig, "-")
			for j := 0; j < len(origParts); {
				// No name has more than four parts; the cap keeps a word of
				// thousands of hyphens linear.
				n := min(len(origParts)-j, 4)
				for ; n >= 1; n-- {
					p := strings.Join(origParts[j:j+n], "-")
					if e, ok := g.lookup(strings.ToLower(p), p); ok && (e.fixed != nil || e.genitiveOK()) {
						hits = append(hits, hit{name: p, entry: e, prev: prev})
						break
					}
				}
				j += max(n, 1)
			}
		} else if parts := camelParts(t.orig); len(parts) > 1 {
			// "BayernAtlas", "5fürSüdwestfalen": a compound written in camel
			// case counts like a hyphenated one, longest run of parts first
			// ("RheinlandPfalz" is Rheinland-Pfalz, not Rheinland and Pfalz)
			for j := 0; j < len(parts); {
				n := min(len(parts)-j, 4)
				for ; n >= 1; n-- {
					p := strings.Join(parts[j:j+n], "-")
					if e, ok := g.lookup(strings.ToLower(p), p); ok && (e.fixed != nil || e.genitiveOK()) {
						hits = append(hits, hit{name: p, entry: e, prev: prev})
						break
					}
				}
				j += max(n, 1)
			}
		}
		i++
	}
	return hits
}

func (g *Gazetteer) matchAt(toks []token, i int, hits *[]hit) int {
	for n := min(g.maxWords, len(toks)-i); n >= 1; n-- {
		parts := make([]string, n)
		for j := range parts {
			parts[j] = toks[i+j].lower
		}
		key := strings.Join(parts, " ")
		if e, ok := g.lookup(key, toks[i].orig); ok {
			if e.fixed == nil && i > 0 && g.first[toks[i-1].lower] && isUpper(toks[i-1].orig) {
				// "Gerd Landsberg", "Uwe Barth": a place's name after a
				// first name is a person's surname
				return n
			}
			prev := ""
			if i > 0 {
				prev = toks[i-1].lower
			}
			orig := make([]string, n)
			for j := range orig {
				orig[j] = toks[i+j].orig
			}
			next, prev2 := "", ""
			if i+n < len(toks) {
				next = toks[i+n].lower
			}
			if i > 1 {
				prev2 = toks[i-2].lower
			}
			listed := i > 0 && g.isPlace(toks[i-1]) || i+n < len(toks) && g.isPlace(toks[i+n])
			*hits = append(*hits, hit{name: strings.Join(orig, " "), entry: e, prev: prev, prev2: prev2, next: next,
				whole: i == 0 && n == len(toks), listed: listed, sitz: prev == "in" && sitzBefore(toks[:i])})
			return n
		}
	}
	return 0
}

func isUpper(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r)
}

// isPlace reports whether a word is a place's name (a Gemeinde, Kreis or
// Ortsteil of places.tsv).
func (g *Gazetteer) isPlace(t token) bool {
	e, ok := g.lookup(t.lower, t.orig)
	return ok && e.fixed == nil && len(e.places) > 0
}

// camelParts splits a word before every capital that follows a lower-case
// letter or a digit: "BayernAtlas" → "Bayern", "Atlas"; "5fürSüdwestfalen" →
// "5für", "Südwestfalen"; a word without such a capital is one part.
func camelParts(w string) []string {
	var out []string
	start := 0
	prev := rune(0)
	for i, r := range w {
		if unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)) {
			out = append(out, w[start:i])
			start = i
		}
		prev = r
	}
	return append(out, w[start:])
}

// verbandAdmin maps the administration of a Gemeindeverband to the type word
// the gazetteer writes before its name.
var verbandAdmin = map[string]string{
	"verbandsgemeindeverwaltung": "Verbandsgemeinde", "samtgemeindeverwaltung": "Samtgemeinde",
	"amtsverwaltung": "Amt", "verbandsgemeinderat": "Verbandsgemeinde", "samtgemeinderat": "Samtgemeinde",
}

// domainHit resolves a web address ("www.service-bw.de", "www.dillingen-saar.de",
// "petersberg.de") by its host name: an organisation or a place, whose parts
// joined by hyphens may also be written with spaces.
func (g *Gazetteer) domainHit(t token) (hit, bool) {
	host, ok := strings.CutSuffix(t.lower, ".de")
	if !ok || strings.HasPrefix(host, "-") {
		return hit{}, false
	}
	host = strings.TrimPrefix(host, "www.")
	if strings.Contains(host, ".") || host == "" {
		return hit{}, false // a subdomain ("rlp.digitale-doerfer.de") names the host's owner, not the place
	}
	// a host cannot hold umlauts: "thueringen.de" is Thüringen, "koeln.de"
	// Köln; the name as written is tried first ("neuenkirchen.de")
	type try struct{ key, prev string }
	var tries []try
	add := func(h, prev string) {
		for _, v := range []string{h, umlauts.Replace(h)} {
			tries = append(tries, try{v, prev}, try{strings.ReplaceAll(v, "-", " "), prev})
		}
	}
	add(host, "")
	// "www.landkreis-gotha.de", "stadt-wesel.de": a type word before the name
	// counts as it does in text ("Landkreis Gotha" is the Kreis)
	for _, w := range hostTypeWords {
		if rest, ok := strings.CutPrefix(host, w+"-"); ok && rest != "" {
			add(rest, w)
			break
		}
	}
	for _, tr := range tries {
		title := strings.ToUpper(tr.key[:1]) + tr.key[1:]
		if e, ok := g.lookup(tr.key, title); ok && e.kind != "adj" && e.kind != "demonym" {
			return hit{name: t.orig, entry: e, domain: true, prev: tr.prev}, true
		}
	}
	return hit{}, false
}

// hostTypeWords stand before a place's name in a web address of its
// administration ("landkreis-gotha.de").
var hostTypeWords = []string{"landkreis", "kreis", "stadt", "gemeinde", "markt"}

// umlauts spells out the transliteration a host name uses for ä, ö, ü.
var umlauts = strings.NewReplacer("ae", "ä", "oe", "ö", "ue", "ü")

func (g *Gazetteer) lookup(key, orig string) (*gazEntry, bool) {
	e, ok := g.names[key]
	if !ok || g.stop[key] {
		return nil, false
	}
	if !e.anyCase {
		r, _ := utf8.DecodeRuneInString(orig)
		if !unicode.IsUpper(r) {
			return nil, false
		}
	}
	return e, true
}

// venue reports whether the hit only says where something took place: a
// city after "in" or "nach", or a city's demonym ("Dortmunder Erklärung").
func (h hit) venue() bool {
	if h.entry.kind == "demonym" {
		// "Der Frankfurter Oberbürgermeister" is the city itself
		return !cityOffices[h.next]
	}
	if seatWords[h.prev] || federalBody(h.prev) {
		// "Standort Wiesbaden", "Sitz in Bonn", "Bundesamt Wiesbaden": the seat
		// of a body, which counts as a venue like "in"
		return h.entry.fixed == nil
	}
	if h.prev != "in" && h.prev != "nach" {
		return false
	}
	// the city-states are Länder and cities: "in Berlin" is a venue too
	city := h.entry.fixed == nil || slices.Contains([]string{"Berlin", "Hamburg", "Bremen"}, h.name)
	return city
}

// seat reports whether the hit is written as the seat of a body: "Sitz in
// Bonn", "Sitz der Anstalt soll in Frankfurt sein", "Standort Wiesbaden", "Bundesamt Wiesbaden", "Wiesbadener
// Bundeskriminalamt" (a city or a city-state, not a Land's adjective).
func (h hit) seat() bool {
	city := h.entry.fixed == nil || h.entry.kind == "demonym" || slices.Contains([]string{"Berlin", "Hamburg", "Bremen"}, h.name)
	if !city {
		return false
	}
	if h.entry.kind == "demonym" {
		return federalBody(h.next)
	}
	return seatWords[h.prev] || federalBody(h.prev) || h.prev == "in" && seatWords[h.prev2] || h.sitz
}

// cityOffices follow a city's demonym when the text is about the city's own
// administration ("Frankfurter Oberbürgermeister", "Kölner Rathaus").
var cityOffices = map[string]bool{
	"oberbürgermeister": true, "oberbürgermeisterin": true, "bürgermeister": true, "bürgermeisterin": true,
	"rathaus": true, "stadtverwaltung": true, "stadtrat": true, "magistrat": true, "stadtverordnetenversammlung": true,
}

// institution reports whether the hit is the seat in a university's name
// ("Hochschule Bremerhaven", "TU Darmstadt"): like a venue, it gives way to
// another Land the same part names otherwise.
func (h hit) institution() bool {
	return h.entry.fixed == nil && universityWords[h.prev]
}

var universityWords = map[string]bool{
	"hochschule": true, "universität": true, "uni": true, "tu": true, "fh": true, "fachhochschule": true,
}

// seatWords stand before the city where a body has its seat.
var seatWords = map[string]bool{"standort": true, "standorts": true, "sitz": true, "dienstsitz": true, "hauptsitz": true}

// inPlace reports whether the hit is only the place where something happens
// ("in Hamburg", "nach Berlin").
func (h hit) inPlace() bool { return h.prev == "in" || h.prev == "nach" }

func (e *gazEntry) genitiveOK() bool {
	if e.fixed != nil {
		return e.kind == "land" || e.kind == "region"
	}
	for _, c := range e.places {
		if c.pop >= 100000 {
			return true
		}
	}
	return false
}

// lands resolves a hit to Länder. context holds the Länder named unambiguously
// elsewhere in the article.
func (h hit) lands(context map[string]bool) []string {
	e := h.entry
	if e.fixed != nil {
		if len(e.fixed) > 1 && e.kind == "region" {
			// "Eifel" is Rheinland-Pfalz and Nordrhein-Westfalen: the Länder named
			// elsewhere in the article say which
			if in := slices.DeleteFunc(slices.Clone(e.fixed), func(l string) bool { return !context[l] }); len(in) > 0 {
				return in
			}
		}
		return e.fixed
	}
	cands := slices.Clone(e.places)
	if h.bezirk {
		cands = filterKind(cands, func(c candidate) bool {
			return c.kind == "teil" && (c.land == "DE-BE" || c.land == "DE-HH")
		})
	}
	// a name of several words ("Dillingen Saar", "Hohe Börde") is no ordinary
	// word: it needs no cue
	if !h.whole && !h.domain && !h.cue() && !h.cued && !strings.Contains(h.name, " ") {
		// "Vöhl, Lichtenfels, Waldeck": a small Gemeinde listed beside other
		// places, of the Land the article names otherwise, wins over a larger
		// namesake elsewhere
		var small, big []candidate
		for _, c := range cands {
			if c.kind == "klein" {
				small = append(small, c)
			} else if context[c.land] {
				big = append(big, c)
			}
		}
		if in := slices.DeleteFunc(small, func(c candidate) bool { return !context[c.land] }); h.listed && len(in) == 1 && len(big) == 0 && len(cands) > 1 {
			return []string{in[0].land}
		}
		cands = slices.DeleteFunc(cands, func(c candidate) bool { return c.kind == "klein" })
		if len(cands) == 0 {
			return nil
		}
	}
	switch h.prev {
	case "kreis", "landkreis", "kreises", "landkreises", "kreisverwaltung", "landkreisverwaltung", "landrat", "landrätin":
		cands = filterKind(cands, func(c candidate) bool { return c.kind == "kreis" })
	case "stadt", "gemeinde", "stadtverwaltung", "oberbürgermeister", "oberbürgermeisterin", "bürgermeister", "bürgermeisterin", "hansestadt", "landeshauptstadt":
		cands = filterKind(cands, func(c candidate) bool { return c.kind != "kreis" || c.town })
	}
	if len(cands) == 1 {
		return []string{cands[0].land}
	}
	var inContext []candidate
	for _, c := range cands {
		if context[c.land] {
			inContext = append(inContext, c)
		}
	}
	if len(inContext) == 1 {
		return []string{inContext[0].land}
	}
	sort.Slice(cands, func(i, j int) bool { return knownPop(cands[i].pop) > knownPop(cands[j].pop) })
	if len(cands) > 1 && cands[0].pop >= 2*knownPop(cands[1].pop) {
		return []string{cands[0].land}
	}
	return nil // ambiguous
}

// knownPop is the population a size comparison assumes: a Gemeinde of the
// official list that GeoNames lacks has population 0, which means "unknown"
// (it may be a new Gemeinde such as Geestland), not "empty": a village of 684
// does not outweigh it.
func knownPop(pop int) int {
	if pop == 0 {
		return 1000
	}
	return pop
}

func filterKind(cs []candidate, keep func(candidate) bool) []candidate {
	var out []candidate
	for _, c := range cs {
		if keep(c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return cs
	}
	return out
}

// Lookup resolves a whole name ("Wiesbaden", "Kreis Paderborn", "AKDB"), as a
// feed category or a staff member would write it, to its Länder. It reports
// false for an unknown or ambiguous name.
func (g *Gazetteer) Lookup(name string) ([]string, bool) {
	name = strings.TrimSpace(name)
	e, ok := g.lookup(nameKey(name), name)
	if !ok {
		return nil, false
	}
	lands := hit{entry: e}.lands(nil)
	return lands, len(lands) > 0
}
