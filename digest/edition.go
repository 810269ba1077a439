package digest

import (
	"fmt"
	"time"
)

// Cadence is how often an edition appears.
type Cadence string

const (
	Weekly Cadence = "weekly"
	Daily  Cadence = "daily"
)

// ParseCadence checks a cadence name.
func ParseCadence(s string) (Cadence, error) {
	switch Cadence(s) {
	case Weekly, Daily:
		return Cadence(s), nil
	}
	return "", fmt.Errorf("unknown cadence %q: use weekly or daily", s)
}

// Berlin is the time zone editions are named in.
var Berlin = mustLoad("Europe/Berlin")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is linked into the binary; this cannot fail
	}
	return loc
}

// Edition names the edition a run at time at belongs to: the ISO week in
// Europe/Berlin for weekly ("2026-W08"), the Berlin date for daily ("2026-02-19").
func Edition(c Cadence, at time.Time) string {
	t := at.In(Berlin)
	if c == Daily {
		return t.Format("2006-01-02")
	}
	year, week := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", year, week)
}
