package subscribers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// CSVColumns are the columns of the import and export format, in export order.
// An import file needs the email column; the others are optional.
var CSVColumns = []string{"email", "name", "regions", "topics", "cadence"}

// Row is one data row of an import file.
type Row struct {
	Line int // line in the file where the row starts (the header is line 1)
	Input
}

// CSVFile is a parsed import file: which columns it has and its rows, not yet validated.
type CSVFile struct {
	Name    string          // as given, used in messages
	Columns map[string]bool // lowercased header names present
	Rows    []Row
}

// Has reports whether the file has the column.
func (f *CSVFile) Has(column string) bool { return f.Columns[column] }

// LineError is one problem at a line of an import file.
type LineError struct {
	File string
	Line int // 0 when the problem concerns the whole file
	Err  error
}

func (e *LineError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// MaxReportedProblems is how many problems an ImportError keeps and prints;
// the rest are only counted.
const MaxReportedProblems = 100

// ImportError lists the problems found in an import file: the first
// MaxReportedProblems of them, and how many there are in all. When Import
// returns it, nothing was written.
type ImportError struct {
	File     string
	Problems []*LineError // the first MaxReportedProblems problems, in file order
	Total    int          // number of problems found, at least len(Problems)
}

// newImportError keeps the first MaxReportedProblems problems and the count.
func newImportError(file string, problems []*LineError) *ImportError {
	e := &ImportError{File: file, Total: len(problems)}
	e.Problems = problems[:min(len(problems), MaxReportedProblems)]
	return e
}

// total is Total, or len(Problems) for an ImportError built without it.
func (e *ImportError) total() int { return max(e.Total, len(e.Problems)) }

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s problem(s), nothing was imported; fix them and run the import again:", e.File, thousands(e.total()))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	if more := e.total() - len(e.Problems); more > 0 {
		fmt.Fprintf(&b, "\n  … and %s more errors (nothing was imported)", thousands(more))
	}
	return b.String()
}

// thousands formats n with "," between groups of three digits: 199,900.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ReadCSV reads a whole import file into memory: a header line naming the
// columns (any order, any case: email, name, regions, topics, cadence; email is
// required), then one subscriber per line. Several regions or topics in one cell
// are separated by ";" (a "," works too); an empty cell means all. The file is
// UTF-8 with or without a byte order mark; fields may be quoted.
//
// It returns *ImportError listing the problems it finds (the first
// MaxReportedProblems of them, and their number): a bad header stops at once,
// broken quoting stops there (the rest of the file cannot be trusted), invalid
// UTF-8 and wrong field counts are reported for every line. Large files are
// imported with Store.ImportFile, which reads them row by row with CSVReader.
func ReadCSV(r io.Reader, name string) (*CSVFile, error) {
	cr, err := NewCSVReader(r, name)
	if err != nil {
		return nil, err
	}
	f := &CSVFile{Name: name, Columns: cr.columns}
	var problems problemList
	for {
		row, bad, err := cr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems.add(err.(*LineError))
			break
		}
		if len(bad) > 0 {
			problems.add(bad...)
			continue
		}
		f.Rows = append(f.Rows, row)
	}
	if problems.total > 0 {
		return nil, problems.err(name)
	}
	return f, nil
}

// problemList keeps the first MaxReportedProblems problems and counts all.
type problemList struct {
	first []*LineError
	total int
}

func (p *problemList) add(problems ...*LineError) {
	for _, e := range problems {
		p.total++
		if len(p.first) < MaxReportedProblems {
			p.first = append(p.first, e)
		}
	}
}

func (p *problemList) err(file string) *ImportError {
	return &ImportError{File: file, Problems: p.first, Total: p.total}
}

// CSVReader reads an import file (the format of ReadCSV) one row at a time,
// so that a file of any size is read in constant memory.
type CSVReader struct {
	name    string
	columns map[string]bool // lowercased header names present
	header  []string
	index   map[string]int
	cr      *csv.Reader
	failed  bool
}

// NewCSVReader reads the header. A missing, unknown or repeated column, or a
// header without email, is an *ImportError naming the header line.
func NewCSVReader(r io.Reader, name string) (*CSVReader, error) {
	c := &CSVReader{name: name, columns: map[string]bool{}, index: map[string]int{}}
	fail := func(p *LineError) (*CSVReader, error) {
		return nil, newImportError(name, []*LineError{p})
	}
	br := bufio.NewReader(r)
	if head, err := br.Peek(3); err == nil && bytes.Equal(head, utf8BOM) {
		br.Discard(3)
	}
	c.cr = csv.NewReader(br)
	c.cr.ReuseRecord = true // Next copies what it keeps
	header, err := c.cr.Read()
	if errors.Is(err, io.EOF) {
		return fail(c.at(0, "the file is empty: the first line must be the header %s", strings.Join(CSVColumns, ",")))
	}
	if err != nil {
		return fail(csvError(name, err))
	}
	header = slices.Clone(header)
	c.header = header

	// Header: every column known, none twice, email present.
	hl, _ := c.cr.FieldPos(0)
	var unknown []string
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !utf8.ValidString(h) || !known(h):
			unknown = append(unknown, fmt.Sprintf("%q", strings.ToValidUTF8(strings.TrimSpace(header[i]), "\uFFFD")))
		case c.columns[h]:
			return fail(c.at(hl, "the header names column %q twice: keep one", h))
		default:
			c.columns[h] = true
			c.index[h] = i
		}
	}
	if len(unknown) > 0 {
		return fail(c.at(hl, "unknown column(s) %s in the header: the columns are %s (email required, the others optional, any order)",
			strings.Join(unknown, ", "), strings.Join(CSVColumns, ", ")))
	}
	if !c.columns["email"] {
		return fail(c.at(hl, "the header has no email column: the first line must name the columns, e.g. %s", strings.Join(CSVColumns, ",")))
	}
	return c, nil
}

func (c *CSVReader) at(line int, format string, args ...any) *LineError {
	return &LineError{File: c.name, Line: line, Err: fmt.Errorf(format, args...)}
}

// Has reports whether the file has the column.
func (c *CSVReader) Has(column string) bool { return c.columns[column] }

// Next returns the next row. A row with a wrong number of fields or invalid
// UTF-8 comes back as its problems (bad), and reading can go on. At the end
// of the file err is io.EOF; broken quoting is a *LineError after which the
// rest of the file cannot be trusted and Next returns io.EOF.
func (c *CSVReader) Next() (row Row, bad []*LineError, err error) {
	if c.failed {
		return Row{}, nil, io.EOF
	}
	rec, err := c.cr.Read()
	if errors.Is(err, io.EOF) {
		return Row{}, nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			return Row{}, []*LineError{c.at(pe.StartLine, "%d field(s), but the header has %d: quote values that contain a comma, e.g. \"Schmidt, Anna\"", len(rec), len(c.header))}, nil
		}
		c.failed = true
		return Row{}, nil, csvError(c.name, err)
	}
	line, _ := c.cr.FieldPos(0)
	for i, v := range rec {
		if !utf8.ValidString(v) {
			l, col := c.cr.FieldPos(i)
			bad = append(bad, c.at(l, "column %d (%s): not valid UTF-8: save the file as UTF-8", col, columnName(c.header, i)))
		}
	}
	if len(bad) > 0 {
		return Row{}, bad, nil
	}
	get := func(col string) string {
		if i, ok := c.index[col]; ok {
			return rec[i]
		}
		return ""
	}
	row.Line = line
	row.Email = unquoteFormula(get("email"))
	row.Name = unquoteFormula(get("name"))
	row.Regions = SplitCell(get("regions"))
	row.Topics = SplitCell(get("topics"))
	row.Cadence = get("cadence")
	return row, nil, nil
}

func known(column string) bool {
	for _, c := range CSVColumns {
		if c == column {
			return true
		}
	}
	return false
}

func columnName(header []string, i int) string {
	if i < len(header) {
		return fmt.Sprintf("field %q", strings.ToLower(strings.TrimSpace(strings.ToValidUTF8(header[i], "\uFFFD"))))
	}
	return "an extra field"
}

// csvError turns an encoding/csv error into a LineError with advice.
func csvError(file string, err error) *LineError {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &LineError{File: file, Err: fmt.Errorf("read: %w", err)}
	}
	advice := "put a value containing a comma, quote or line break in double quotes and double every quote inside it (\"Anna \"\"Anni\"\" Schmidt\")"
	var msg error
	switch {
	case pe.StartLine != pe.Line:
		msg = fmt.Errorf("the quoted field that starts here is not closed properly (found at line %d, column %d: %v): %s; the rest of the file was not checked", pe.Line, pe.Column, pe.Err, advice)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		msg = fmt.Errorf("column %d: broken quoting (a \" inside a value that is not in quotes): %s; the rest of the file was not checked", pe.Column, advice)
	default:
		msg = fmt.Errorf("column %d: broken quoting (a quoted field is not closed, or has text after its closing quote): %s; the rest of the file was not checked", pe.Column, advice)
	}
	return &LineError{File: file, Line: pe.StartLine, Err: msg}
}

// SplitCell splits a cell of several values on ";" (or ","), trimming spaces and
// dropping empty values. An empty cell gives nil, which means all.
func SplitCell(cell string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(cell, func(r rune) bool { return r == ';' || r == ',' }) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// CSVWriter writes subscribers in the import format (all columns), so that an
// export imports again unchanged.
type CSVWriter struct{ w *csv.Writer }

// NewCSVWriter writes the header and returns the writer.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	cw := &CSVWriter{w: csv.NewWriter(w)}
	if err := cw.w.Write(CSVColumns); err != nil {
		return nil, err
	}
	return cw, nil
}

// Write writes one subscriber as a row.
func (c *CSVWriter) Write(sub Subscriber) error {
	return c.w.Write([]string{quoteFormula(sub.Email), quoteFormula(sub.Name), strings.Join(sub.Regions, ";"), strings.Join(sub.Topics, ";"), string(sub.Cadence)})
}

// Spreadsheets run a cell that starts with one of these as a formula
// (OWASP, "CSV Injection").
const formulaStart = "=+-@\t\r"

// quoteFormula neutralises a cell a spreadsheet would run as a formula by a
// leading apostrophe, as spreadsheet users expect; a cell that already starts
// with an apostrophe before such a character (or another apostrophe) gets one
// more, so that unquoteFormula gives back exactly what was exported.
func quoteFormula(v string) string {
	if v != "" && (strings.ContainsRune(formulaStart, rune(v[0])) ||
		v[0] == '\'' && len(v) > 1 && strings.ContainsRune(formulaStart+"'", rune(v[1]))) {
		return "'" + v
	}
	return v
}

// unquoteFormula undoes quoteFormula on import.
func unquoteFormula(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune(formulaStart+"'", rune(v[1])) {
		return v[1:]
	}
	return v
}

// Flush writes buffered rows and reports any write error.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}
