package main

import (
	"os"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	ms, err := parse(strings.NewReader("# comment\n\ndigest/a.go | x > ? | x >= ? | the edge\n"), "m.txt")
	if err != nil || len(ms) != 1 || ms[0] != (mutation{line: 3, file: "digest/a.go", old: "x > ?", new: "x >= ?", what: "the edge"}) {
		t.Fatalf("parse = %+v, %v", ms, err)
	}
	for _, bad := range []string{"digest/a.go | x | y\n", "digest/a.go | x | x | same\n"} {
		if _, err := parse(strings.NewReader(bad), "m.txt"); err == nil || !strings.Contains(err.Error(), "m.txt:1:") {
			t.Errorf("parse(%q) = %v, want an error naming the line", bad, err)
		}
	}
}

// TestCommittedList: every committed mutation applies to the source as it is.
func TestCommittedList(t *testing.T) {
	f, err := os.Open("mutations.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := parse(f, "mutations.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 40 {
		t.Errorf("%d mutations", len(ms))
	}
	for _, m := range ms {
		src, err := os.ReadFile("../../" + m.file)
		if err != nil {
			t.Fatalf("mutations.txt:%d: %v", m.line, err)
		}
		if n := strings.Count(string(src), m.old); n != 1 {
			t.Errorf("mutations.txt:%d: %q occurs %d times in %s, want once", m.line, m.old, n, m.file)
		}
	}
}
