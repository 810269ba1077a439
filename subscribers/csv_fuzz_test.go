package subscribers_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kommune21/digest/subscribers"
)

// FuzzReadCSV feeds arbitrary files to the import reader. It must never panic;
// it either fails with an *ImportError whose problems name the file, or returns
// rows of valid UTF-8 with increasing line numbers that survive a write and a
// second read unchanged.
//
//	go test -run '^$' -fuzz FuzzReadCSV -fuzztime 30s ./subscribers/
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(goodCSV))
	f.Add([]byte("\xEF\xBB\xBFemail,name\na@example.org,\"Schmidt, \"\"Anna\"\"\"\n"))
	f.Add([]byte("email,name\na@example.org,\"open\nb@example.org,x\n"))
	f.Add([]byte("email,name\na@example.org,M\xfcller\n"))
	f.Add([]byte("topics,email\n;;;,a@example.org\n,\n"))
	f.Add([]byte("email,foo\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := subscribers.ReadCSV(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			var ie *subscribers.ImportError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 {
				t.Fatalf("err = %v (%T), want *ImportError with problems", err, err)
			}
			for _, p := range ie.Problems {
				if !strings.HasPrefix(p.Error(), "fuzz.csv") || !utf8.ValidString(p.Error()) {
					t.Fatalf("problem %q does not name the file or is not UTF-8", p.Error())
				}
			}
			return
		}
		last := 1
		var buf bytes.Buffer
		w, err := subscribers.NewCSVWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range file.Rows {
			if r.Line <= last {
				t.Fatalf("row line %d after %d", r.Line, last)
			}
			last = r.Line
			for _, v := range append([]string{r.Email, r.Name, r.Cadence}, append(r.Regions, r.Topics...)...) {
				if !utf8.ValidString(v) {
					t.Fatalf("invalid UTF-8 %q in a row", v)
				}
			}
			w.Write(subscribers.Subscriber{Email: r.Email, Name: r.Name, Regions: r.Regions, Topics: r.Topics, Cadence: subscribers.Cadence(r.Cadence)})
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		again, err := subscribers.ReadCSV(&buf, "again.csv")
		if err != nil {
			t.Fatalf("re-reading written rows: %v\n%q", err, buf.String())
		}
		if len(again.Rows) != len(file.Rows) {
			t.Fatalf("%d rows written, %d read back", len(file.Rows), len(again.Rows))
		}
		for i, r := range file.Rows {
			got := again.Rows[i].Input
			// encoding/csv turns \r\n inside quotes into \n and a lone \r into \n: compare without CR.
			want := r.Input
			want.Email, want.Name, want.Cadence = noCR(want.Email), noCR(want.Name), noCR(want.Cadence)
			got.Email, got.Name, got.Cadence = noCR(got.Email), noCR(got.Name), noCR(got.Cadence)
			want.Regions, want.Topics = noCRs(want.Regions), noCRs(want.Topics)
			got.Regions, got.Topics = noCRs(got.Regions), noCRs(got.Topics)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("row %d changed in a write/read round trip:\n%#v\n%#v", i, want, got)
			}
		}
	})
}

func noCR(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func noCRs(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, noCR(v))
	}
	return out
}
