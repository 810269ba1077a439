package subscribers_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kommune21/digest/subscribers"
)

func readCSV(t *testing.T, data string) (*subscribers.CSVFile, *subscribers.ImportError) {
	t.Helper()
	f, err := subscribers.ReadCSV(strings.NewReader(data), "people.csv")
	if err == nil {
		return f, nil
	}
	var ie *subscribers.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v (%T), want *ImportError", err, err)
	}
	return nil, ie
}

func TestReadCSV_OK(t *testing.T) {
	data := "\xEF\xBB\xBFTopics, EMAIL ,Name,regions,Cadence\n" +
		"it-sicherheit;open-source,anna@example.org,\"Schmidt, Anna\",DE-BY; de-he ,daily\n" +
		"\n" + // blank lines are skipped
		",bob@example.org,\"Bob \"\"the builder\"\"\nsecond line\",,\n" +
		";;,carla@example.org,Carla,;,\n"
	f, ie := readCSV(t, data)
	if ie != nil {
		t.Fatal(ie)
	}
	if !f.Has("email") || !f.Has("cadence") || len(f.Columns) != 5 {
		t.Fatalf("columns %v", f.Columns)
	}
	want := []subscribers.Row{
		{Line: 2, Input: subscribers.Input{Email: "anna@example.org", Name: "Schmidt, Anna", Regions: []string{"DE-BY", "de-he"}, Topics: []string{"it-sicherheit", "open-source"}, Cadence: "daily"}},
		{Line: 4, Input: subscribers.Input{Email: "bob@example.org", Name: "Bob \"the builder\"\nsecond line"}},
		{Line: 6, Input: subscribers.Input{Email: "carla@example.org", Name: "Carla"}},
	}
	if !reflect.DeepEqual(f.Rows, want) {
		t.Fatalf("rows\n%+v\nwant\n%+v", f.Rows, want)
	}
}

func TestReadCSV_OnlyEmail(t *testing.T) {
	f, ie := readCSV(t, "email\nanna@example.org\n")
	if ie != nil || len(f.Rows) != 1 || f.Has("name") || f.Has("regions") {
		t.Fatalf("f = %+v, err = %v", f, ie)
	}
}

func TestReadCSV_Problems(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string // one substring per reported problem, in order
	}{
		{"Empty", "", []string{"people.csv: the file is empty: the first line must be the header email,name,regions,topics,cadence"}},
		{"UnknownColumns", "email,Vorname,name,land\n", []string{`people.csv:1: unknown column(s) "Vorname", "land" in the header: the columns are email, name, regions, topics, cadence`}},
		{"TwiceColumn", "email,name,NAME\n", []string{`people.csv:1: the header names column "name" twice`}},
		{"NoEmail", "name,regions\nAnna,DE\n", []string{"people.csv:1: the header has no email column"}},
		{"NoHeader", "anna@example.org,Anna,DE-BY,\n", []string{`people.csv:1: unknown column(s) "anna@example.org", "Anna", "DE-BY", ""`}},
		{"BareQuote", "email,name\na@example.org,Anna\nb@example.org,Bob \"the\" builder\nc@example.org,Carla\n",
			[]string{`people.csv:3: column 19: broken quoting (a " inside a value that is not in quotes)`}},
		{"UnclosedQuote", "email,name\na@example.org,\"Anna\nb@example.org,Bob\n",
			[]string{"people.csv:2: the quoted field that starts here is not closed properly (found at line 3, column 19"}},
		{"FieldCount", "email,name\na@example.org,Schmidt, Anna\nb@example.org\nc@example.org,Carla\n",
			[]string{"people.csv:2: 3 field(s), but the header has 2: quote values that contain a comma", "people.csv:3: 1 field(s), but the header has 2"}},
		{"InvalidUTF8", "email,name\na@example.org,M\xfcller\nb@example.org,Bob\nc@example.org,K\xf6hler\n",
			[]string{`people.csv:2: column 15 (field "name"): not valid UTF-8: save the file as UTF-8`, `people.csv:4: column 15 (field "name")`}},
		{"Latin1Header", "email,n\xe4me\n", []string{"people.csv:1: unknown column(s) \"n\ufffdme\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ie := readCSV(t, tc.data)
			if ie == nil {
				t.Fatal("no error")
			}
			if len(ie.Problems) != len(tc.want) {
				t.Fatalf("%d problems, want %d:\n%v", len(ie.Problems), len(tc.want), ie)
			}
			for i, w := range tc.want {
				if got := ie.Problems[i].Error(); !strings.Contains(got, w) {
					t.Errorf("problem %d = %q\nwant it to contain %q", i, got, w)
				}
			}
			if !strings.Contains(ie.Error(), "nothing was imported") {
				t.Errorf("summary %q does not say nothing was imported", ie.Error())
			}
		})
	}
}

func TestReadCSV_LargeFields(t *testing.T) {
	big := strings.Repeat("ä", 5000) // 10 KB
	f, ie := readCSV(t, "email,name\na@example.org,\""+big+"\"\n")
	if ie != nil || f.Rows[0].Name != big {
		t.Fatalf("10 KB field not read intact: %v", ie)
	}
}

func TestCSVWriter_RoundTrip(t *testing.T) {
	subs := []subscribers.Subscriber{
		{Email: "Anna@Example.org", Name: "Schmidt, Anna \"Anni\"", Regions: []string{"DE-BY", "DE-HE"}, Topics: []string{"open-source"}, Cadence: subscribers.Daily},
		{Email: "bob@example.org", Name: "Bob\nZweite Zeile", Cadence: subscribers.Weekly},
		{Email: "=cmd@example.org", Name: " leading space", Cadence: subscribers.Weekly},
	}
	var buf bytes.Buffer
	w, err := subscribers.NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "email,name,regions,topics,cadence\nAnna@Example.org,\"Schmidt, Anna \"\"Anni\"\"\",DE-BY;DE-HE,open-source,daily\n") {
		t.Fatalf("export:\n%s", buf.String())
	}
	f, ie := readCSV(t, buf.String())
	if ie != nil {
		t.Fatal(ie)
	}
	for i, r := range f.Rows {
		s := subs[i]
		if r.Email != s.Email || r.Name != s.Name || !reflect.DeepEqual(r.Regions, s.Regions) || !reflect.DeepEqual(r.Topics, s.Topics) || r.Cadence != string(s.Cadence) {
			t.Errorf("row %d = %+v, want %+v", i, r, s)
		}
	}
}

// TestReadCSV_ProblemReportCapped: a file with 1,000 bad rows reports the first
// 100 (file, line, advice) and one summary line, and keeps the full count.
func TestReadCSV_ProblemReportCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "a%d@example.org,Anna,extra\n", i)
	}
	_, ie := readCSV(t, b.String())
	if ie.Total != 1000 || len(ie.Problems) != subscribers.MaxReportedProblems {
		t.Fatalf("Total = %d, len(Problems) = %d, want 1000 and %d", ie.Total, len(ie.Problems), subscribers.MaxReportedProblems)
	}
	lines := strings.Split(ie.Error(), "\n")
	if len(lines) != 1+100+1 {
		t.Fatalf("%d lines, want header + 100 problems + summary:\n%s", len(lines), ie.Error())
	}
	if !strings.HasPrefix(lines[0], "people.csv: 1,000 problem(s), nothing was imported") {
		t.Errorf("first line = %q", lines[0])
	}
	if want := "  people.csv:2: 3 field(s), but the header has 2: quote values"; !strings.HasPrefix(lines[1], want) {
		t.Errorf("first problem = %q, want prefix %q", lines[1], want)
	}
	if want := "  people.csv:101: 3 field(s)"; !strings.HasPrefix(lines[100], want) {
		t.Errorf("100th problem = %q, want prefix %q", lines[100], want)
	}
	if want := "  … and 900 more errors (nothing was imported)"; lines[101] != want {
		t.Errorf("last line = %q, want %q", lines[101], want)
	}
}
