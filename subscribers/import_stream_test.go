package subscribers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
)

// importFile writes data to a file and imports it with ImportFile, which
// reads it twice (a dry run with OnChange three times).
func (e *importEnv) importFile(ctx context.Context, set *taxonomy.Set, data string, opts subscribers.ImportOptions) (subscribers.ImportResult, error) {
	e.t.Helper()
	path := filepath.Join(e.t.TempDir(), "people.csv")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		e.t.Fatal(err)
	}
	opens := 0
	res, err := e.s.ImportFile(ctx, set, "testdata/people.csv", func() (io.ReadCloser, error) {
		opens++
		return os.Open(path)
	}, opts)
	if err == nil && !opts.DryRun && opens != 2 {
		e.t.Errorf("the file was opened %d times, want 2 (check, then write)", opens)
	}
	if err == nil && opts.DryRun && opts.OnChange != nil && opens != 3 {
		e.t.Errorf("the file was opened %d times, want 3 (check, classify, show the changes)", opens)
	}
	return res, err
}

// manyRows is a header and n rows new%05d@example.org; row i (0-based, file
// line i+2) gets the cells that cell returns, if any.
func manyRows(n int, cell func(i int) string) string {
	var b strings.Builder
	b.WriteString("email,name,regions,topics,cadence\n")
	for i := range n {
		row := fmt.Sprintf("new%05d@example.org,Neu %d,DE-BY,,", i, i)
		if c := cell(i); c != "" {
			row = c
		}
		b.WriteString(row + "\n")
	}
	return b.String()
}

// TestStore_ImportFile streams a file of several batches: the results match
// Import's, problems are found across batches, and a failure in a later
// batch leaves the database as it was.
func TestStore_ImportFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newImportEnv(t, db)
		if _, err := e.importCSV("email,name,regions,topics\nold@example.org,Alter Name,DE-BY;DE-TH,open-source\n", subscribers.ImportOptions{Confirmed: true}); err != nil {
			t.Fatal(err)
		}
		before := summary(e.all())
		unchanged := func(t *testing.T) {
			t.Helper()
			if after := summary(e.all()); !reflect.DeepEqual(after, before) {
				t.Fatalf("subscribers after the failed import: %d, want the %d from before", len(after), len(before))
			}
			for table, want := range map[string]int{"subscribers": 1, "subscriber_regions": 2, "subscriber_topics": 1} {
				if n := e.count(table); n != want {
					t.Errorf("%s has %d rows after the failed import, want %d", table, n, want)
				}
			}
		}

		t.Run("DuplicateAcrossBatches", func(t *testing.T) {
			// Line 2 and line 1,902 (four batches later) are the same mailbox.
			data := manyRows(1901, func(i int) string {
				if i == 1900 {
					return "NEW00000@Example.ORG,Doppelt,,,"
				}
				return ""
			})
			_, err := e.importFile(ctx, e.set, data, subscribers.ImportOptions{Confirmed: true})
			var ie *subscribers.ImportError
			if !errors.As(err, &ie) || ie.Total != 1 {
				t.Fatalf("err = %v, want one problem", err)
			}
			if want := `testdata/people.csv:1902: field "email" value "NEW00000@Example.ORG": the same address as line 2`; !strings.Contains(ie.Problems[0].Error(), want) {
				t.Fatalf("problem %q\nwant %q", ie.Problems[0], want)
			}
			unchanged(t)
		})

		t.Run("ProblemsCappedWithTotal", func(t *testing.T) {
			// 600 bad rows among 3,000, and one row with a wrong field count:
			// the file's form is reported first, as ReadCSV does.
			data := manyRows(3000, func(i int) string {
				if i%5 == 0 {
					return fmt.Sprintf("bad%05d@example.org,Bad,DE-XX,,", i)
				}
				return ""
			})
			_, err := e.importFile(ctx, e.set, data, subscribers.ImportOptions{Confirmed: true})
			var ie *subscribers.ImportError
			if !errors.As(err, &ie) || ie.Total != 600 || len(ie.Problems) != subscribers.MaxReportedProblems {
				t.Fatalf("err = %.300v, want 600 problems of which %d reported", err, subscribers.MaxReportedProblems)
			}
			if !strings.HasSuffix(ie.Error(), "… and 500 more errors (nothing was imported)") || !strings.HasPrefix(ie.Problems[99].Error(), "testdata/people.csv:497: field \"regions\" value \"DE-XX\"") {
				t.Fatalf("report %q … %q", ie.Problems[99], ie.Error()[len(ie.Error())-60:])
			}
			_, err = e.importFile(ctx, e.set, data+"x@example.org,,,,,,\n", subscribers.ImportOptions{Confirmed: true})
			if !errors.As(err, &ie) || ie.Total != 1 || !strings.Contains(ie.Problems[0].Error(), "testdata/people.csv:3002: 7 field(s), but the header has 5") {
				t.Fatalf("err = %.300v, want only the field count problem", err)
			}
			unchanged(t)
		})

		t.Run("ConstraintViolationInBatch3", func(t *testing.T) {
			// The taxonomy was loaded before a topic disappeared from the
			// database: validation passes, the choice's foreign key in the
			// third batch (of 2,000 rows) does not.
			stale := taxonomy.NewSet(e.set.Regions, append(append([]taxonomy.Topic(nil), e.set.Topics...), taxonomy.Topic{Slug: "entfallen", Name: "Entfallen"}))
			data := manyRows(4500, func(i int) string {
				switch i {
				case 0:
					return "old@example.org,Neuer Name,DE-HE,,daily"
				case 4400:
					return "late@example.org,Spät,,entfallen,"
				}
				return ""
			})
			var progress []int
			_, err := e.importFile(ctx, stale, data, subscribers.ImportOptions{Confirmed: true, Update: true, Progress: func(done, total int) { progress = append(progress, done, total) }})
			if err == nil || !strings.Contains(err.Error(), "insert subscriber_topics") {
				t.Fatalf("err = %v, want the foreign key violation", err)
			}
			if n := len(progress); n < 2 || progress[n-2] < 4000 || progress[n-1] != 4500 {
				t.Errorf("progress %v, want two batches (4,000 of 4,500 rows) written before the third failed", progress)
			}
			unchanged(t)
		})

		t.Run("DifferingRowInBatch2", func(t *testing.T) {
			// Without --update, an existing subscriber whose row differs is a
			// problem; it is found after the first batch was written.
			data := manyRows(2500, func(i int) string {
				if i == 2300 {
					return "old@example.org,Anderer Name,DE-BY;DE-TH,open-source,"
				}
				return ""
			})
			_, err := e.importFile(ctx, e.set, data, subscribers.ImportOptions{Confirmed: true})
			var ie *subscribers.ImportError
			if !errors.As(err, &ie) || ie.Total != 1 || !strings.Contains(ie.Problems[0].Error(), `testdata/people.csv:2302: field "email" value "old@example.org": already a subscriber (active) with a different name`) {
				t.Fatalf("err = %v", err)
			}
			unchanged(t)
		})

		t.Run("FileChangedBetweenPasses", func(t *testing.T) {
			data := manyRows(2500, func(int) string { return "" })
			opens := 0
			_, err := e.s.ImportFile(ctx, e.set, "people.csv", func() (io.ReadCloser, error) {
				opens++
				if opens == 2 { // one address differs in the second read
					return io.NopCloser(strings.NewReader(strings.Replace(data, "new02499@", "neu02499@", 1))), nil
				}
				return io.NopCloser(strings.NewReader(data)), nil
			}, subscribers.ImportOptions{Confirmed: true})
			if !errors.Is(err, subscribers.ErrFileChanged) {
				t.Fatalf("err = %v, want ErrFileChanged", err)
			}
			unchanged(t)
		})

		t.Run("DryRunOnChange", func(t *testing.T) {
			data := "email,name\nold@example.org,Neuer Name\nfresh@example.org,Frisch\nOld2@example.org,\n"
			var got []subscribers.Change
			res, err := e.importFile(ctx, e.set, data, subscribers.ImportOptions{Update: true, DryRun: true, OnChange: func(c subscribers.Change) { got = append(got, c) }})
			if err != nil || res.Rows != 3 || res.Added != 2 || res.Updated != 1 || res.Changes != nil {
				t.Fatalf("%+v, %v", res, err)
			}
			want := []subscribers.Change{
				{Line: 2, Email: "old@example.org", Action: subscribers.ActionUpdate, Fields: []string{"name"}},
				{Line: 3, Email: "fresh@example.org", Action: subscribers.ActionAdd},
				{Line: 4, Email: "Old2@example.org", Action: subscribers.ActionAdd},
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("changes\n%+v\nwant\n%+v", got, want)
			}
			// A problem found while classifying: no change is shown.
			got = nil
			if _, err := e.importFile(ctx, e.set, data, subscribers.ImportOptions{DryRun: true, OnChange: func(c subscribers.Change) { got = append(got, c) }}); err == nil || got != nil {
				t.Fatalf("err = %v, changes %+v; want the problem and no changes", err, got)
			}
			unchanged(t)
		})

		t.Run("OK", func(t *testing.T) {
			data := manyRows(1234, func(i int) string {
				if i == 0 {
					return "old@example.org,Neuer Name,DE-HE,,daily"
				}
				return ""
			})
			res, err := e.importFile(ctx, e.set, data, subscribers.ImportOptions{Confirmed: true, Update: true})
			if err != nil || res.Rows != 1234 || res.Added != 1233 || res.Updated != 1 || res.Changes != nil {
				t.Fatalf("%+v, %v", res.Rows, err)
			}
			if n, r := e.count("subscribers"), e.count("subscriber_regions"); n != 1234 || r != 1234 {
				t.Fatalf("%d subscribers, %d region choices; want 1234 each", n, r)
			}
			old, _ := e.s.GetByEmail(ctx, "old@example.org")
			if old.Name != "Neuer Name" || !reflect.DeepEqual(old.Regions, []string{"DE-HE"}) || len(old.Topics) != 0 || old.Cadence != subscribers.Daily {
				t.Fatalf("updated %+v: want the file's name, regions, all topics (an empty cell) and daily", old)
			}
			res, err = e.importFile(ctx, e.set, data, subscribers.ImportOptions{Confirmed: true})
			if err != nil || res.Unchanged != 1234 {
				t.Fatalf("again: %+v, %v", res, err)
			}
		})
	})
}
