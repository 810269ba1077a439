package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar draws "sending [#####-----]  52% 5200/10000 1834/s ETA 3s" on a
// terminal. Callers only create one when stdout is a terminal and not --json.
type progressBar struct {
	w      io.Writer
	label  string
	counts bool // show done/total, rate and ETA (off when the units mean nothing to a user)
	start  time.Time
	last   time.Time
	drawn  bool
}

// update is set for callbacks that count in ints.
func (p *progressBar) update(done, total int) { p.set(int64(done), int64(total)) }

// set redraws the bar, at most ten times a second and always at the end.
func (p *progressBar) set(done, total int64) {
	now := time.Now()
	if p.start.IsZero() {
		p.start = now
	}
	if total <= 0 || (done < total && now.Sub(p.last) < 100*time.Millisecond) {
		return
	}
	p.last, p.drawn = now, true
	fmt.Fprint(p.w, "\r\033[K"+p.render(done, total, now.Sub(p.start)))
}

func (p *progressBar) render(done, total int64, elapsed time.Duration) string {
	const width = 30
	frac := min(1, float64(done)/float64(total))
	n := int(frac * width)
	s := fmt.Sprintf("%s [%s%s] %3.0f%%", p.label, strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100)
	if p.counts {
		rate := float64(done) / max(elapsed.Seconds(), 0.001)
		eta := "?"
		if rate > 0 && total >= done {
			eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
		}
		s += fmt.Sprintf(" %d/%d %.0f/s ETA %s", done, total, rate, eta)
	}
	return s
}

// clear removes the bar so that the summary line starts clean.
func (p *progressBar) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
