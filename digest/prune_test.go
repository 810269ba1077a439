package digest_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

func TestPruneSentLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := fixture{t, db}
		ctx := context.Background()
		f.article("A: alt", day(-2), day(-2), "DE-HE")
		f.subscriber("a@example.org", "DE-HE")
		p := &digest.Planner{DB: db, Now: clock(T0)}
		old, err := p.Plan(ctx, digest.Weekly, T0, false)
		if err != nil {
			t.Fatal(err)
		}
		f.markSent(old.Run.ID)
		f.article("B: neu", day(20), day(20), "DE-HE")
		p.Now = clock(day(21))
		recent, err := p.Plan(ctx, digest.Weekly, day(21), false)
		if err != nil {
			t.Fatal(err)
		}
		n, err := digest.PruneSentLog(ctx, db, day(14))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d selections, %v; want the old run's one", n, err)
		}
		if got, status := f.digestOf(old.Run.ID, "a@example.org"); len(got) != 0 || status != "sent" {
			t.Errorf("old run after pruning: %q (%s), want no articles and the delivery kept", got, status)
		}
		if got, _ := f.digestOf(recent.Run.ID, "a@example.org"); !reflect.DeepEqual(got, []string{"B: neu"}) {
			t.Errorf("recent run after pruning: %q, want it untouched", got)
		}
		if st, _ := digest.GetRun(ctx, db, old.Run.ID); st.Sent != 1 {
			t.Errorf("old run counts after pruning: %+v", st)
		}
	})
}
