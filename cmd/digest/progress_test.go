package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := &progressBar{w: &buf, label: "importing"}
	p.update(0, 0) // nothing to do: no bar
	p.update(50, 100)
	p.update(100, 100)
	p.clear()
	// Each redraw clears the line first, so a shorter line leaves no residue.
	want := "\r\033[Kimporting [###############...............]  50%" +
		"\r\033[Kimporting [##############################] 100%\r\033[K"
	if buf.String() != want {
		t.Fatalf("bar %q\nwant %q", buf.String(), want)
	}
}

func TestProgressBar_Counts(t *testing.T) {
	p := &progressBar{label: "sending", counts: true}
	got := p.render(250, 1000, 2*time.Second)
	if !strings.Contains(got, " 25%") || !strings.Contains(got, "250/1000 125/s ETA 6s") {
		t.Fatalf("render = %q", got)
	}
}
