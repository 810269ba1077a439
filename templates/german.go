package templates

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Berlin must resolve in a static binary without system zoneinfo
)

// berlin is loaded once from the embedded tzdata and never changed.
var berlin = mustLoadBerlin()

func mustLoadBerlin() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic("templates: Europe/Berlin missing from embedded tzdata: " + err.Error())
	}
	return loc
}

var germanMonths = [...]string{
	"Januar", "Februar", "März", "April", "Mai", "Juni",
	"Juli", "August", "September", "Oktober", "November", "Dezember",
}

// GermanDate formats t as a German long date ("19. Februar 2026") in Europe/Berlin.
func GermanDate(t time.Time) string {
	t = t.In(berlin)
	return strconv.Itoa(t.Day()) + ". " + germanMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// editionInfo is an edition string understood: its week number (weekly) or day (daily).
type editionInfo struct {
	week int       // ISO week, weekly only
	day  time.Time // midnight Europe/Berlin, daily only
}

// parseEdition checks that edition fits cadence: "2026-W08" for weekly, "2026-02-19" for daily.
func parseEdition(cadence, edition string) (editionInfo, error) {
	switch cadence {
	case "weekly":
		y, w, ok := strings.Cut(edition, "-W")
		year, err1 := strconv.Atoi(y)
		week, err2 := strconv.Atoi(w)
		if !ok || len(y) != 4 || len(w) != 2 || err1 != nil || err2 != nil || week < 1 || week > isoWeeksIn(year) {
			return editionInfo{}, fmt.Errorf("digest edition %q: want an ISO week like 2026-W08 for cadence weekly", edition)
		}
		return editionInfo{week: week}, nil
	case "daily":
		d, err := time.ParseInLocation("2006-01-02", edition, berlin)
		if err != nil {
			return editionInfo{}, fmt.Errorf("digest edition %q: want a date like 2026-02-19 for cadence daily", edition)
		}
		return editionInfo{day: d}, nil
	default:
		return editionInfo{}, fmt.Errorf("digest cadence %q: want weekly or daily", cadence)
	}
}

// isoWeeksIn returns 52 or 53: December 28 always lies in the last ISO week.
func isoWeeksIn(year int) int {
	_, w := time.Date(year, time.December, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// germanList joins items the German way: "A", "A und B", "A, B und C".
func germanList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	default:
		return strings.Join(items[:len(items)-1], ", ") + " und " + items[len(items)-1]
	}
}

// articleCount is the nominative count phrase: "1 neuer Artikel", "7 neue Artikel".
func articleCount(n int) string {
	if n == 1 {
		return "1 neuer Artikel"
	}
	return strconv.Itoa(n) + " neue Artikel"
}

// moreCount names the articles cut by the cap: "1 weiterer Artikel", "3 weitere Artikel".
func moreCount(n int) string {
	if n == 1 {
		return "1 weiterer Artikel"
	}
	return strconv.Itoa(n) + " weitere Artikel"
}

// nationwide is the region code for articles of national scope.
const nationwide = "DE"

// allLaender is how many Länder there are; choosing all of them reads "aus allen Ländern".
const allLaender = 16

// regionPhrase names the chosen regions for subject and intro:
// "aus Thüringen", "aus Hessen und Thüringen", "aus Bayern, Hessen und Thüringen",
// "aus 5 Ländern", "bundesweit", "aus Hessen sowie bundesweit"; "" for all regions.
func regionPhrase(regions []Named) string {
	laender, de := splitRegions(regions)
	var p string
	switch {
	case len(laender) == 0:
		// only DE (or nothing chosen)
	case len(laender) >= allLaender:
		p = "aus allen Ländern"
	case len(laender) > 3:
		p = "aus " + strconv.Itoa(len(laender)) + " Ländern"
	default:
		p = "aus " + germanList(laender)
	}
	switch {
	case de && p == "":
		return "bundesweit"
	case de:
		return p + " sowie bundesweit"
	}
	return p
}

// regionChoice names the chosen regions in the footer sentence ("für …"):
// every Land by name, "alle Länder" when none was chosen.
func regionChoice(regions []Named) string {
	laender, de := splitRegions(regions)
	if de {
		laender = append(laender, "bundesweite Meldungen")
	}
	if len(laender) == 0 {
		return "alle Länder"
	}
	return germanList(laender)
}

// topicChoice completes "zu …" in the footer: "zum Thema X", "zu den Themen X und Y", "zu allen Themen".
func topicChoice(topics []Named) string {
	names := make([]string, 0, len(topics))
	for _, t := range topics {
		names = append(names, cleanLine(t.Name, maxNameRunes))
	}
	switch len(names) {
	case 0:
		return "zu allen Themen"
	case 1:
		return "zum Thema " + names[0]
	default:
		return "zu den Themen " + germanList(names)
	}
}

// splitRegions returns the Länder names sorted in German order and whether DE was chosen.
func splitRegions(regions []Named) (laender []string, de bool) {
	for _, r := range regions {
		if strings.EqualFold(r.Code, nationwide) {
			de = true
			continue
		}
		laender = append(laender, cleanLine(r.Name, maxNameRunes))
	}
	sort.SliceStable(laender, func(i, j int) bool { return germanKey(laender[i]) < germanKey(laender[j]) })
	return laender, de
}

var germanFold = strings.NewReplacer("Ä", "A", "ä", "a", "Ö", "O", "ö", "o", "Ü", "U", "ü", "u", "ß", "ss")

// germanKey is a sort key that files umlauts under their base letter (DIN 5007-1).
func germanKey(s string) string { return strings.ToLower(germanFold.Replace(s)) }
