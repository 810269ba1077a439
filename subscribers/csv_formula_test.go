package subscribers

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// TestCSV_FormulaInjection: an export never hands a spreadsheet a cell it
// would run as a formula, and an import of the export gives back exactly the
// names that were exported.
func TestCSV_FormulaInjection(t *testing.T) {
	names := []string{"=HYPERLINK(\"https://evil.example\",\"Klick\")", "+49 30 1234", "-Müller", "@SUM(A1:A9)",
		"\tTab", "\rCR", "'=schon zitiert", "''doppelt", "'Apostroph", "O'Brien", "Anna Schmidt", "'", ""}
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := w.Write(Subscriber{Email: "a@example.org", Name: n, Cadence: Weekly}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs[1:] {
		if cell := rec[1]; cell != "" && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@' || cell[0] == '\t' || cell[0] == '\r') {
			t.Errorf("name %q exported as %q: a spreadsheet runs it", names[i], cell)
		}
	}
	f, err := ReadCSV(bytes.NewReader(buf.Bytes()), "export.csv")
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range f.Rows {
		if row.Name != names[i] {
			t.Errorf("round trip: exported %q, imported %q", names[i], row.Name)
		}
	}
}
