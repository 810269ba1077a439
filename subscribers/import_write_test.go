package subscribers_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
)

// writeFailureCSV has an existing subscriber to update and 600 new ones (two
// INSERT batches), the last of which chose topic.
func writeFailureCSV(topic string) string {
	var b strings.Builder
	b.WriteString("email,name,regions,topics,cadence\n")
	b.WriteString("old@example.org,Neuer Name,DE-HE,,daily\n")
	for i := range 600 {
		t := ""
		if i == 599 {
			t = topic
		}
		fmt.Fprintf(&b, "new%03d@example.org,Neu %d,DE-BY,%s,\n", i, i, t)
	}
	return b.String()
}

// TestStore_Import_WriteFailure: an error in the write phase, after rows
// were already written in the transaction, leaves the database as it was.
func TestStore_Import_WriteFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		// fail sets up the failure and returns the set and options to import with.
		fail    func(e *importEnv, cancel context.CancelFunc) (*taxonomy.Set, subscribers.ImportOptions, string)
		wantErr string
	}{
		{
			// The taxonomy was loaded before a topic disappeared from the
			// database: validation passes, the choice's foreign key does not.
			name: "ConstraintViolation",
			fail: func(e *importEnv, _ context.CancelFunc) (*taxonomy.Set, subscribers.ImportOptions, string) {
				stale := taxonomy.NewSet(e.set.Regions, append(append([]taxonomy.Topic(nil), e.set.Topics...), taxonomy.Topic{Slug: "entfallen", Name: "Entfallen"}))
				return stale, subscribers.ImportOptions{Confirmed: true, Update: true}, writeFailureCSV("entfallen")
			},
			wantErr: "insert subscriber_topics",
		},
		{
			// The connection goes away after the first batch was written (the
			// command is interrupted, the server restarts).
			name: "ConnectionLost",
			fail: func(e *importEnv, cancel context.CancelFunc) (*taxonomy.Set, subscribers.ImportOptions, string) {
				return e.set, subscribers.ImportOptions{Confirmed: true, Update: true, Progress: func(done, total int) {
					if done >= 500 {
						cancel()
					}
				}}, writeFailureCSV("")
			},
			wantErr: "context canceled",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				e := newImportEnv(t, db)
				if _, err := e.importCSV("email,name,regions,topics\nold@example.org,Alter Name,DE-BY;DE-TH,open-source\n", subscribers.ImportOptions{Confirmed: true}); err != nil {
					t.Fatal(err)
				}
				before := summary(e.all())
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				set, opts, data := tc.fail(e, cancel)
				f, err := subscribers.ReadCSV(strings.NewReader(data), "testdata/people.csv")
				if err != nil {
					t.Fatal(err)
				}
				res, err := e.s.Import(ctx, set, f, opts)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("import = %+v, %v; want an error with %q", res.Added, err, tc.wantErr)
				}
				var ie *subscribers.ImportError
				if errors.As(err, &ie) {
					t.Fatalf("a write failure reported as bad rows: %v", err)
				}
				if res.Added != 0 || res.Changes != nil {
					t.Errorf("a failed import reports %d added", res.Added)
				}
				if after := summary(e.all()); !reflect.DeepEqual(after, before) {
					t.Errorf("subscribers after the failed import:\n%q\nwant as before:\n%q", after, before)
				}
				for table, want := range map[string]int{"subscribers": 1, "subscriber_regions": 2, "subscriber_topics": 1} {
					if n := e.count(table); n != want {
						t.Errorf("%s has %d rows after the failed import, want %d", table, n, want)
					}
				}
			})
		})
	}
}
