package templates

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; look at the change with -update and git diff\n%s", name, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + string(w) + "\n  got: " + string(g)
		}
	}
	return ""
}

func TestDigest_Golden(t *testing.T) {
	s := mustNew(t)
	p := mustPrepare(t, s, goldenDigest())
	var h, x bytes.Buffer
	p.Render(goldenRecipient(), &h, &x)
	golden(t, "digest.subject.txt", []byte(p.Subject()+"\n"))
	golden(t, "digest.html", h.Bytes())
	golden(t, "digest.txt", x.Bytes())
}

func TestConfirmation_Golden(t *testing.T) {
	s := mustNew(t)
	subject, text, html, err := s.Confirmation("Erika Mustermann", "erika.mustermann@example.org", "https://digest.kommune21.example/confirm?t=v1.QwErTy4567")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "confirm.subject.txt", []byte(subject+"\n"))
	golden(t, "confirm.html", []byte(html))
	golden(t, "confirm.txt", []byte(text))
}
