package subscribers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
)

func TestStore_PurgePending(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		st := subscribers.NewStore(db, func() time.Time { return now })
		add := func(email string, status subscribers.Status) int64 {
			sub := subscribers.Subscriber{Email: email, Status: status, Regions: []string{"DE-HE"}}
			if err := st.Create(ctx, &sub); err != nil {
				t.Fatal(err)
			}
			return sub.ID
		}
		oldPending := add("alt@example.org", subscribers.StatusPending)
		oldActive := add("aktiv@example.org", subscribers.StatusActive)
		oldUnsub := add("weg@example.org", subscribers.StatusUnsubscribed)
		now = now.Add(20 * 24 * time.Hour)
		newPending := add("neu@example.org", subscribers.StatusPending)
		now = now.Add(11 * 24 * time.Hour) // 31 days after the first ones

		n, err := st.PurgePending(ctx, now.Add(-subscribers.PendingMaxAge))
		if err != nil || n != 1 {
			t.Fatalf("PurgePending = %d, %v; want 1", n, err)
		}
		if _, err := st.Get(ctx, oldPending); !errors.Is(err, subscribers.ErrNotFound) {
			t.Errorf("old pending subscriber still there: %v", err)
		}
		for _, id := range []int64{oldActive, oldUnsub, newPending} {
			if _, err := st.Get(ctx, id); err != nil {
				t.Errorf("subscriber %d purged: %v", id, err)
			}
		}
		if n, err := st.PurgePending(ctx, now.Add(-subscribers.PendingMaxAge)); err != nil || n != 0 {
			t.Errorf("second purge = %d, %v; want 0", n, err)
		}
	})
}
