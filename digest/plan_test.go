package digest_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// T0 is a Monday, 07:00 in Berlin: the default weekly schedule.
var T0 = time.Date(2026, 2, 23, 7, 0, 0, 0, digest.Berlin)

func day(n int) time.Time { return T0.AddDate(0, 0, n) }

func TestEdition(t *testing.T) {
	for _, tc := range []struct {
		c    digest.Cadence
		at   time.Time
		want string
	}{
		{digest.Weekly, T0, "2026-W09"},
		{digest.Weekly, time.Date(2026, 2, 22, 23, 30, 0, 0, time.UTC), "2026-W09"}, // Monday 00:30 in Berlin
		{digest.Weekly, time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC), "2026-W53"},
		{digest.Daily, time.Date(2026, 2, 18, 23, 30, 0, 0, time.UTC), "2026-02-19"},
	} {
		if got := digest.Edition(tc.c, tc.at); got != tc.want {
			t.Errorf("Edition(%s, %s) = %s, want %s", tc.c, tc.at, got, tc.want)
		}
	}
}

func TestPlanner_Selection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("Wiesbaden: Register", day(-2), day(-2), "DE-HE", "registermodernisierung")
		f.article("Erfurt: Cloud", day(-3), day(-3), "DE-TH", "cloud-infrastruktur")
		f.article("Bund: OZG", day(-1), day(-1), "DE", "ozg-onlinedienste")
		f.article("Alt: zu alt", day(-15), day(-1), "DE-HE", "registermodernisierung")    // published before the window
		f.article("Spät: noch frisch", day(-13), day(-1), "DE-HE", "cloud-infrastruktur") // late import, still in window
		f.article("Zukunft: nach T", day(-1), day(1), "DE-HE", "registermodernisierung")  // ingested after T
		f.subscriber("hessen@example.org", "DE-HE")
		f.subscriber("thueringen-cloud@example.org", "DE-TH", "cloud-infrastruktur")
		f.subscriber("alles@example.org")
		f.subscriber("register@example.org", "registermodernisierung")
		f.subscriber("bund@example.org", "DE", "it-sicherheit") // DE is a region like any other; no topic matches
		p := &digest.Planner{DB: db, Now: clock(T0)}
		res, err := p.Plan(ctx, digest.Weekly, T0, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Planned != 5 || res.Skipped != 1 || res.Resumed || res.Run.Edition != "2026-W09" {
			t.Fatalf("PlanResult = %+v", res)
		}
		for email, want := range map[string][]string{
			"hessen@example.org":           {"Wiesbaden: Register", "Spät: noch frisch"},
			"thueringen-cloud@example.org": {"Erfurt: Cloud"},
			"alles@example.org":            {"Bund: OZG", "Wiesbaden: Register", "Erfurt: Cloud", "Spät: noch frisch"},
			"register@example.org":         {"Wiesbaden: Register"},
		} {
			got, status := f.digestOf(res.Run.ID, email)
			if !reflect.DeepEqual(got, want) || status != "pending" {
				t.Errorf("%s: got %q (%s), want %q (pending)", email, got, status, want)
			}
		}
		if got, status := f.digestOf(res.Run.ID, "bund@example.org"); len(got) != 0 || status != "skipped" {
			t.Errorf("bund@: got %q (%s), want nothing (skipped)", got, status)
		}

		t.Run("ResumeAddsOnlyNewSubscribers", func(t *testing.T) {
			again, err := p.Plan(ctx, digest.Weekly, T0.Add(time.Hour), false)
			if err != nil {
				t.Fatal(err)
			}
			if !again.Resumed || again.Planned != 0 || again.Run.ID != res.Run.ID {
				t.Fatalf("second Plan = %+v", again)
			}
			f.subscriber("neu@example.org", "DE-TH")
			f.subscriber("hessen2@example.org", "DE-HE") // same choices and history as hessen@
			again, err = p.Plan(ctx, digest.Weekly, T0.Add(2*time.Hour), false)
			if err != nil || again.Planned != 2 || again.Selections != 1 {
				t.Fatalf("Plan after two new subscribers = %+v, %v (want 2 planned, 1 new selection)", again, err)
			}
			if got, _ := f.digestOf(res.Run.ID, "neu@example.org"); !reflect.DeepEqual(got, []string{"Erfurt: Cloud"}) {
				t.Fatalf("new subscriber got %q", got)
			}
			selOf := func(email string) int64 {
				return f.id(`SELECT d.selection_id FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
					WHERE d.run_id = ? AND s.email = ?`, res.Run.ID, email)
			}
			if a, b := selOf("hessen@example.org"), selOf("hessen2@example.org"); a != b {
				t.Errorf("hessen2@ got selection %d, want hessen@'s existing %d", b, a)
			}
		})
	})
}

func TestPlanner_NeverTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("A: eins", day(-2), day(-2), "DE-HE")
		f.article("B: zwei", day(-1), day(-1), "DE-HE")
		f.subscriber("early@example.org", "DE-HE")
		p := &digest.Planner{DB: db, Now: clock(T0)}
		week1, err := p.Plan(ctx, digest.Weekly, T0, false)
		if err != nil {
			t.Fatal(err)
		}
		f.markSent(week1.Run.ID)
		// A new subscriber with the same choices joins; a new article arrives.
		f.subscriber("late@example.org", "DE-HE")
		f.article("C: drei", day(5), day(5), "DE-HE")
		p.Now = clock(day(7))
		week2, err := p.Plan(ctx, digest.Weekly, day(7), false)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := f.digestOf(week2.Run.ID, "early@example.org"); !reflect.DeepEqual(got, []string{"C: drei"}) {
			t.Errorf("early subscriber got %q in week 2, want only the new article", got)
		}
		if got, _ := f.digestOf(week2.Run.ID, "late@example.org"); !reflect.DeepEqual(got, []string{"C: drei", "B: zwei", "A: eins"}) {
			t.Errorf("late subscriber got %q, want everything fresh", got)
		}
		if week2.Selections != 2 {
			t.Errorf("same choices, different history: %d selections, want 2", week2.Selections)
		}
		// Week 3: nothing new for early (A, B, C all sent or out of window).
		f.markSent(week2.Run.ID)
		p.Now = clock(day(14))
		week3, err := p.Plan(ctx, digest.Weekly, day(14), false)
		if err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"early@example.org", "late@example.org"} {
			if got, status := f.digestOf(week3.Run.ID, email); len(got) != 0 || status != "skipped" {
				t.Errorf("%s in week 3: %q (%s), want skipped", email, got, status)
			}
		}
	})
}

// TestPlanner_DeliveriesReferTheirRunsSelections checks what the foreign key
// of deliveries.selection_id used to enforce (PostgreSQL dropped it in
// migration 00013): every delivery's selection exists and belongs to the
// delivery's run, after planning with history, and after a run is deleted.
func TestPlanner_DeliveriesReferTheirRunsSelections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("A: eins", day(-2), day(-2), "DE-HE", "it-sicherheit")
		f.article("B: zwei", day(-1), day(-1), "DE-TH")
		f.subscriber("a@example.org", "DE-HE")
		f.subscriber("b@example.org", "DE-TH")
		f.subscriber("c@example.org", "DE-BY") // nothing: skipped
		p := &digest.Planner{DB: db, Now: clock(T0)}
		week1, err := p.Plan(ctx, digest.Weekly, T0, false)
		if err != nil {
			t.Fatal(err)
		}
		f.markSent(week1.Run.ID)
		f.subscriber("d@example.org", "it-sicherheit")
		f.article("C: drei", day(5), day(5), "DE-HE")
		p.Now = clock(day(7))
		week2, err := p.Plan(ctx, digest.Weekly, day(7), false)
		if err != nil {
			t.Fatal(err)
		}
		dangling := func() int64 {
			return f.id(`SELECT count(*) FROM deliveries d
				WHERE d.selection_id IS NULL
				   OR NOT EXISTS (SELECT 1 FROM selections sel WHERE sel.id = d.selection_id AND sel.run_id = d.run_id)`)
		}
		if n := f.id(`SELECT count(*) FROM deliveries`); n != 7 {
			t.Fatalf("%d deliveries, want 7 (3 + 4)", n)
		}
		if n := dangling(); n != 0 {
			t.Fatalf("%d deliveries without their run's selection", n)
		}
		f.exec(`DELETE FROM runs WHERE id = ?`, week1.Run.ID)
		if n := dangling(); n != 0 {
			t.Fatalf("after deleting week 1: %d deliveries without their run's selection", n)
		}
		if n := f.id(`SELECT count(*) FROM deliveries WHERE run_id = ?`, week2.Run.ID); n != 4 {
			t.Fatalf("after deleting week 1: %d deliveries of week 2, want 4", n)
		}
	})
}

func TestPlanner_SharingAndCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		for i := 0; i < 35; i++ {
			f.article(fmt.Sprintf("Ort: Meldung %02d", i), day(-10).Add(time.Duration(i)*time.Hour), day(-10), "DE-BY", "smart-city")
		}
		for i := 0; i < 20; i++ {
			f.subscriber(fmt.Sprintf("s%02d@example.org", i), "DE-BY", "smart-city")
		}
		f.subscriber("other@example.org", "DE-BY")
		res, err := (&digest.Planner{DB: db, Now: clock(T0)}).Plan(ctx, digest.Weekly, T0, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Planned != 21 || res.Selections != 2 {
			t.Fatalf("planned %d in %d selections, want 21 in 2", res.Planned, res.Selections)
		}
		got, _ := f.digestOf(res.Run.ID, "s07@example.org")
		if len(got) != 30 || got[0] != "Ort: Meldung 34" || got[29] != "Ort: Meldung 05" {
			t.Fatalf("capped digest = %d items from %q to %q", len(got), got[0], got[len(got)-1])
		}
		var total int
		db.GetContext(ctx, &total, db.Rebind(`SELECT MAX(total) FROM selections WHERE run_id = ?`), res.Run.ID)
		if total != 35 {
			t.Fatalf("selection total = %d, want 35 (30 shown + 5 more)", total)
		}
	})
}

func TestPlanner_DryRunAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("A: eins", day(-2), day(-2), "DE-HE")
		f.subscriber("a@example.org")
		p := &digest.Planner{DB: db, Now: clock(T0)}
		dry, err := p.Plan(ctx, digest.Weekly, T0, true)
		if err != nil || dry.Planned != 1 {
			t.Fatalf("dry run = %+v, %v", dry, err)
		}
		var runs int
		db.GetContext(ctx, &runs, `SELECT count(*) FROM runs`)
		if runs != 0 {
			t.Fatalf("dry run left %d runs", runs)
		}
		// Week 1 is planned but never sent; week 2 takes its article over.
		week1, _ := p.Plan(ctx, digest.Weekly, T0, false)
		p.Now = clock(day(7))
		week2, err := p.Plan(ctx, digest.Weekly, day(7), false)
		if err != nil || week2.Expired != 1 {
			t.Fatalf("week 2 = %+v, %v; want 1 expired", week2, err)
		}
		if _, status := f.digestOf(week1.Run.ID, "a@example.org"); status != "failed" {
			t.Errorf("week 1 delivery is %s, want failed (expired)", status)
		}
		if got, _ := f.digestOf(week2.Run.ID, "a@example.org"); !reflect.DeepEqual(got, []string{"A: eins"}) {
			t.Errorf("week 2 got %q, want the unsent article", got)
		}
	})
}
