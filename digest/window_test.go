package digest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// TestLibrary_Windows reads a run's selections in small windows, forwards and
// backwards (windows dropped and read again), and gets what reading them all
// at once gives.
func TestLibrary_Windows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedBench(t, db, 150, 60)
		p := &Planner{DB: db, Now: func() time.Time { return benchAt }}
		res, err := p.Plan(ctx, Weekly, benchAt, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Selections < 20 {
			t.Fatalf("only %d selections: the test needs many windows", res.Selections)
		}
		all, err := loadLibrary(ctx, db, db.DB, nil, res.Run)
		if err != nil {
			t.Fatal(err)
		}
		lib, err := loadSendLibrary(ctx, db, nil, res.Run)
		if err != nil {
			t.Fatal(err)
		}
		lib.window.size = 4
		var ids []int64
		for id := range all.selections {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		backward := slices.Clone(ids)
		slices.Reverse(backward)
		for _, order := range [][]int64{ids, backward} {
			for _, id := range order {
				got, err := lib.selection(id)
				if err != nil {
					t.Fatal(err)
				}
				want := all.selections[id]
				if got == nil || got.ChoiceKey != want.ChoiceKey || got.Total != want.Total || !slices.Equal(got.Articles, want.Articles) {
					t.Fatalf("selection %d: got %+v, want %+v", id, got, want)
				}
			}
			if len(lib.selections) >= 3*lib.window.size {
				t.Errorf("%d selections held with windows of %d", len(lib.selections), lib.window.size)
			}
		}
		if s, err := lib.selection(ids[len(ids)-1] + 1000); err != nil || s != nil {
			t.Errorf("selection of another run: %v, %v", s, err)
		}
	})
}
