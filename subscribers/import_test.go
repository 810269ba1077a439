package subscribers_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
)

var importNow = time.Date(2026, 2, 19, 7, 0, 0, 0, time.UTC)

type importEnv struct {
	t   *testing.T
	db  *store.DB
	s   *subscribers.Store
	set *taxonomy.Set
}

func newImportEnv(t *testing.T, db *store.DB) *importEnv {
	set, err := taxonomy.NewStore(db).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &importEnv{t: t, db: db, s: subscribers.NewStore(db, fixedClock(importNow)), set: set}
}

func (e *importEnv) importCSV(data string, opts subscribers.ImportOptions) (subscribers.ImportResult, error) {
	e.t.Helper()
	f, err := subscribers.ReadCSV(strings.NewReader(data), "testdata/people.csv")
	if err != nil {
		return subscribers.ImportResult{}, err
	}
	return e.s.Import(context.Background(), e.set, f, opts)
}

func (e *importEnv) all() []subscribers.Subscriber {
	e.t.Helper()
	var out []subscribers.Subscriber
	if err := e.s.Each(context.Background(), subscribers.Filter{}, func(s subscribers.Subscriber) error {
		out = append(out, s)
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *importEnv) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.db.GetContext(context.Background(), &n, "SELECT count(*) FROM "+table); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// summary renders subscribers compactly for comparisons.
func summary(subs []subscribers.Subscriber) []string {
	var out []string
	for _, s := range subs {
		out = append(out, strings.Join([]string{s.Email, s.Name, string(s.Status), strings.Join(s.Regions, ";"), strings.Join(s.Topics, ";"), string(s.Cadence)}, "|"))
	}
	return out
}

const goodCSV = "email,name,regions,topics,cadence\n" +
	"Anna.Schmidt@Example.org,\"Schmidt, Anna\",DE-BY;de-he,it-sicherheit,\n" +
	"bob@example.org,Bob,,,daily\n" +
	"jörg@bücher.de,Jörg Müller,DE-TH,open-source;smart-city,weekly\n"

func TestStore_Import(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newImportEnv(t, db)
		t.Run("Confirmed", func(t *testing.T) {
			var calls []int
			res, err := e.importCSV(goodCSV, subscribers.ImportOptions{Confirmed: true, Progress: func(done, total int) { calls = append(calls, done, total) }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Added != 3 || res.Updated != 0 || res.Unchanged != 0 || res.Status != subscribers.StatusActive {
				t.Fatalf("result %+v", res)
			}
			want := []string{
				"Anna.Schmidt@Example.org|Schmidt, Anna|active|DE-BY;DE-HE|it-sicherheit|weekly",
				"bob@example.org|Bob|active|||daily",
				"jörg@bücher.de|Jörg Müller|active|DE-TH|smart-city;open-source|weekly",
			}
			if got := summary(e.all()); !reflect.DeepEqual(got, want) {
				t.Fatalf("stored\n%q\nwant\n%q", got, want)
			}
			anna, _ := e.s.GetByEmail(context.Background(), "anna.schmidt@example.org")
			if anna.Consent.Method != "import" || anna.Consent.Source != "people.csv" || !anna.Consent.At.Equal(importNow) {
				t.Fatalf("consent %+v, want import from people.csv at %v", anna.Consent, importNow)
			}
			if len(calls) == 0 || calls[len(calls)-2] != calls[len(calls)-1] {
				t.Fatalf("progress calls %v, want a last call with done == total", calls)
			}
		})
		t.Run("SameFileAgainChangesNothing", func(t *testing.T) {
			before := e.all()
			res, err := e.importCSV(goodCSV, subscribers.ImportOptions{Confirmed: true})
			if err != nil || res.Unchanged != 3 || res.Added+res.Updated != 0 {
				t.Fatalf("result %+v, %v", res, err)
			}
			// Also in another case and without the optional columns.
			res, err = e.importCSV("EMAIL\nANNA.SCHMIDT@EXAMPLE.ORG\n", subscribers.ImportOptions{})
			if err != nil || res.Unchanged != 1 {
				t.Fatalf("result %+v, %v", res, err)
			}
			if after := e.all(); !reflect.DeepEqual(before, after) {
				t.Fatalf("a repeated import changed the subscribers:\n%+v\n%+v", before, after)
			}
		})
		t.Run("DifferentRowNeedsUpdate", func(t *testing.T) {
			before := e.all()
			changed := "email,regions,topics\nbob@example.org,DE-HE,\nnew@example.org,,\nANNA.SCHMIDT@example.org,DE,beschaffung\n"
			_, err := e.importCSV(changed, subscribers.ImportOptions{Confirmed: true})
			var ie *subscribers.ImportError
			if !errors.As(err, &ie) || len(ie.Problems) != 2 {
				t.Fatalf("err = %v, want two problems", err)
			}
			for i, want := range []string{
				`testdata/people.csv:2: field "email" value "bob@example.org": already a subscriber (active) with a different regions: run the import with --update`,
				`testdata/people.csv:4: field "email" value "Anna.Schmidt@Example.org": already a subscriber (active) with a different regions, topics: run the import with --update`,
			} {
				if !strings.Contains(ie.Problems[i].Error(), want) {
					t.Errorf("problem %d = %q\nwant %q", i, ie.Problems[i], want)
				}
			}
			if after := e.all(); !reflect.DeepEqual(before, after) {
				t.Fatal("a failed import wrote something")
			}

			res, err := e.importCSV(changed, subscribers.ImportOptions{Confirmed: true, Update: true, DryRun: true})
			if err != nil || res.Added != 1 || res.Updated != 2 || res.Unchanged != 0 {
				t.Fatalf("dry run %+v, %v", res, err)
			}
			if !reflect.DeepEqual(res.Changes[2], subscribers.Change{Line: 4, Email: "Anna.Schmidt@Example.org", Action: subscribers.ActionUpdate, Fields: []string{"regions", "topics"}}) {
				t.Fatalf("change %+v", res.Changes[2])
			}
			if after := e.all(); !reflect.DeepEqual(before, after) {
				t.Fatal("a dry run wrote something")
			}

			res, err = e.importCSV(changed, subscribers.ImportOptions{Update: true})
			if err != nil || res.Added != 1 || res.Updated != 2 {
				t.Fatalf("update %+v, %v", res, err)
			}
			want := []string{
				"Anna.Schmidt@Example.org|Schmidt, Anna|active|DE|beschaffung|weekly", // name and cadence kept: no such columns
				"bob@example.org|Bob|active|DE-HE||daily",
				"jörg@bücher.de|Jörg Müller|active|DE-TH|smart-city;open-source|weekly",
				"new@example.org||pending|||weekly", // without --confirmed: pending
			}
			if got := summary(e.all()); !reflect.DeepEqual(got, want) {
				t.Fatalf("stored\n%q\nwant\n%q", got, want)
			}
			if n := e.count("subscriber_regions"); n != 3 {
				t.Fatalf("%d region rows, want 3 (old choices removed)", n)
			}
		})
		t.Run("PendingStaysPendingAndUnsubscribedStaysOut", func(t *testing.T) {
			bob, _ := e.s.GetByEmail(context.Background(), "bob@example.org")
			if _, err := e.s.Unsubscribe(context.Background(), bob.ID); err != nil {
				t.Fatal(err)
			}
			res, err := e.importCSV("email,name\nbob@example.org,Robert\nnew@example.org,Neu\n", subscribers.ImportOptions{Confirmed: true, Update: true})
			if err != nil || res.Updated != 2 {
				t.Fatalf("%+v, %v", res, err)
			}
			for email, want := range map[string]subscribers.Status{"bob@example.org": subscribers.StatusUnsubscribed, "new@example.org": subscribers.StatusPending} {
				s, _ := e.s.GetByEmail(context.Background(), email)
				if s.Status != want {
					t.Errorf("%s is %s after an import with --confirmed, want %s kept", email, s.Status, want)
				}
			}
		})
	})
}

func TestStore_Import_AllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newImportEnv(t, db)
		data := "email,name,regions,topics,cadence\n" +
			"ok1@example.org,OK,DE-BY,,\n" +
			"bad-address,X,,,\n" +
			"ok2@example.org,\"Evil\rName\",DE-XX;DE-HE,ki,monthly\n" +
			"Ok1@Example.org,Duplicate,,,\n" +
			"nul@example.org,\"A\x00B\",,,\n" +
			"long@example.org," + strings.Repeat("x", 10240) + ",,,\n" +
			"ok3@example.org,OK,DE,it-sicherheit,daily\n"
		_, err := e.importCSV(data, subscribers.ImportOptions{Confirmed: true})
		var ie *subscribers.ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("err = %v", err)
		}
		want := []string{
			`testdata/people.csv:3: field "email" value "bad-address": not an email address`,
			`testdata/people.csv:4: field "name" value "Evil\rName": contains a control character`,
			`testdata/people.csv:4: field "regions" value "DE-XX": unknown region; use one of DE, DE-BW, DE-BY`,
			`testdata/people.csv:4: field "topics" value "ki": unknown topic; use one of barrierefreiheit, beschaffung`,
			`testdata/people.csv:4: field "cadence" value "monthly": unknown cadence: use weekly or daily`,
			`testdata/people.csv:5: field "email" value "Ok1@Example.org": the same address as line 2 (addresses are case-insensitive): keep one of lines 2 and 5`,
			`testdata/people.csv:6: field "name" value "A\x00B": contains a control character`,
			`testdata/people.csv:7: field "name" value "xxxxxxxx`,
		}
		if len(ie.Problems) != len(want) {
			t.Fatalf("%d problems, want %d:\n%v", len(ie.Problems), len(want), ie)
		}
		for i, w := range want {
			if !strings.Contains(ie.Problems[i].Error(), w) {
				t.Errorf("problem %d = %q\nwant %q", i, ie.Problems[i], w)
			}
		}
		if !strings.Contains(ie.Problems[7].Error(), "(10240 bytes): 10240 characters long: a name has at most 200") {
			t.Errorf("long value not shortened: %.300s", ie.Problems[7])
		}
		if n := e.count("subscribers"); n != 0 {
			t.Fatalf("%d subscribers written by a failed import, want 0", n)
		}
	})
}

func TestStore_ExportImportRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		src := newImportEnv(t, db)
		if _, err := src.importCSV(goodCSV+"\"x\"\"y\"\"@example.org\",,,,\n", subscribers.ImportOptions{Confirmed: true}); err == nil {
			t.Fatal("quoted local part accepted")
		}
		data := goodCSV + "zeilen@example.org,\"Erste, \"\"Zweite\"\"\",DE;DE-SH,e-akte-dokumente,daily\n"
		if _, err := src.importCSV(data, subscribers.ImportOptions{Confirmed: true}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w, err := subscribers.NewCSVWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := src.s.Each(ctx, subscribers.Filter{Status: subscribers.StatusActive}, w.Write); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}

		// An empty database of the same dialect.
		var empty *store.DB
		if db.Dialect == store.Postgres {
			empty = storetest.Postgres(t)
		} else {
			empty = storetest.SQLite(t)
		}
		dst := newImportEnv(t, empty)
		res, err := dst.importCSV(buf.String(), subscribers.ImportOptions{Confirmed: true})
		if err != nil || res.Added != 4 {
			t.Fatalf("%+v, %v\n%s", res, err, buf.String())
		}
		if a, b := summary(src.all()), summary(dst.all()); !reflect.DeepEqual(a, b) {
			t.Fatalf("export → import changed the subscribers:\n%q\n%q", a, b)
		}
	})
}

func TestStore_EachFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newImportEnv(t, db)
		if _, err := e.importCSV("email,regions,topics\nall@example.org,,\nby@example.org,DE-BY,open-source\nhe@example.org,DE-HE,it-sicherheit\n", subscribers.ImportOptions{Confirmed: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.importCSV("email\npending@example.org\n", subscribers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			f    subscribers.Filter
			want string
		}{
			{subscribers.Filter{}, "all by he pending"},
			{subscribers.Filter{Status: subscribers.StatusActive}, "all by he"},
			{subscribers.Filter{Status: subscribers.StatusPending}, "pending"},
			{subscribers.Filter{Region: "DE-BY"}, "all by pending"},
			{subscribers.Filter{Region: "DE-BY", Topic: "it-sicherheit"}, "all pending"},
			{subscribers.Filter{Status: subscribers.StatusBounced}, ""},
		} {
			var got []string
			if err := e.s.Each(ctx, tc.f, func(s subscribers.Subscriber) error {
				got = append(got, strings.TrimSuffix(s.Email, "@example.org"))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("Each(%+v) = %q, want %q", tc.f, got, tc.want)
			}
		}
	})
}

func TestStore_DeleteActivate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newImportEnv(t, db)
		if _, err := e.importCSV(goodCSV, subscribers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		anna, _ := e.s.GetByEmail(ctx, "anna.schmidt@example.org")
		t.Run("Activate", func(t *testing.T) {
			got, err := e.s.Activate(ctx, anna.ID, subscribers.Consent{Method: "staff", Source: "phone call"})
			if err != nil || got.Status != subscribers.StatusActive || got.Consent.Method != "staff" || got.Consent.Source != "phone call" || !got.Consent.At.Equal(importNow) {
				t.Fatalf("%+v, %v", got, err)
			}
			if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE subscribers SET status = 'bounced' WHERE email = ?`), "bob@example.org"); err != nil {
				t.Fatal(err)
			}
			bob, _ := e.s.GetByEmail(ctx, "bob@example.org")
			if got, err := e.s.Activate(ctx, bob.ID, subscribers.Consent{Method: "staff"}); err == nil || got.Status != subscribers.StatusBounced {
				t.Fatalf("bounced address activated: %+v, %v", got, err)
			}
		})
		t.Run("Delete", func(t *testing.T) {
			var runID int64
			if err := db.GetContext(ctx, &runID, db.Rebind(`INSERT INTO runs (cadence, edition, at, created_at) VALUES ('weekly', '2026-W08', ?, ?) RETURNING id`), importNow, importNow); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO deliveries (run_id, subscriber_id, status, updated_at) VALUES (?, ?, 'sent', ?)`), runID, anna.ID, importNow); err != nil {
				t.Fatal(err)
			}
			er, err := e.s.Delete(ctx, anna.ID)
			if err != nil || er.Subscriber.Email != "Anna.Schmidt@Example.org" || er.Deliveries != 1 {
				t.Fatalf("%+v, %v", er, err)
			}
			if _, err := e.s.GetByEmail(ctx, "anna.schmidt@example.org"); !errors.Is(err, subscribers.ErrNotFound) {
				t.Fatalf("erased subscriber still found: %v", err)
			}
			var kept, linked int
			db.GetContext(ctx, &kept, `SELECT count(*) FROM deliveries`)
			db.GetContext(ctx, &linked, `SELECT count(*) FROM deliveries WHERE subscriber_id IS NOT NULL`)
			if kept != 1 || linked != 0 {
				t.Fatalf("deliveries kept %d, linked %d; want 1 anonymous", kept, linked)
			}
			var left int
			db.GetContext(ctx, &left, db.Rebind(`SELECT count(*) FROM subscribers WHERE email_key = ? OR name = ?`), "anna.schmidt@example.org", "Schmidt, Anna")
			if left != 0 || e.count("subscriber_regions") != 1 { // only Jörg's DE-TH is left
				t.Fatalf("address or choices left after erasure (%d rows, %d region rows)", left, e.count("subscriber_regions"))
			}
			if _, err := e.s.Delete(ctx, anna.ID); !errors.Is(err, subscribers.ErrNotFound) {
				t.Fatalf("second delete: %v", err)
			}
		})
	})
}
