package subscribers_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestStore_CreateGet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 2, 19, 7, 0, 0, 0, time.UTC)
		s := subscribers.NewStore(db, fixedClock(now))
		sub := subscribers.Subscriber{Email: "Anna.Schmidt@Example.org", Name: "Anna Schmidt", Status: subscribers.StatusActive,
			Regions: []string{"DE-HE", "DE-TH"}, Topics: []string{"it-sicherheit"}, Consent: subscribers.Consent{At: now, Method: "staff"}}
		if err := s.Create(ctx, &sub); err != nil {
			t.Fatal(err)
		}
		t.Run("OK", func(t *testing.T) {
			got, err := s.GetByEmail(ctx, "anna.schmidt@example.ORG")
			if err != nil {
				t.Fatal(err)
			}
			if got.Email != "Anna.Schmidt@Example.org" || got.Cadence != subscribers.Weekly ||
				!reflect.DeepEqual(got.Regions, []string{"DE-HE", "DE-TH"}) || !reflect.DeepEqual(got.Topics, []string{"it-sicherheit"}) ||
				!got.CreatedAt.Equal(now) || !got.Consent.At.Equal(now) || !got.ConfirmedAt.IsZero() {
				t.Fatalf("got %+v", got)
			}
		})
		t.Run("ErrExists", func(t *testing.T) {
			dup := subscribers.Subscriber{Email: "ANNA.SCHMIDT@example.org", Status: subscribers.StatusPending}
			var exists *subscribers.ExistsError
			if err := s.Create(ctx, &dup); !errors.As(err, &exists) || exists.Email != "ANNA.SCHMIDT@example.org" {
				t.Fatalf("err = %v, want ExistsError naming the address", err)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			if _, err := s.GetByEmail(ctx, "nobody@example.org"); !errors.Is(err, subscribers.ErrNotFound) {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run("UnknownRegion", func(t *testing.T) {
			bad := subscribers.Subscriber{Email: "x@example.org", Status: subscribers.StatusActive, Regions: []string{"DE-XX"}}
			if err := s.Create(ctx, &bad); err == nil {
				t.Fatal("unknown region accepted")
			}
			if _, err := s.GetByEmail(ctx, "x@example.org"); !errors.Is(err, subscribers.ErrNotFound) {
				t.Fatal("a failed create left a subscriber behind")
			}
		})
	})
}

// TestStore_OneMailboxOneSubscriber: an address typed another way (NFD,
// A-label or Unicode domain, full-width dot) is the same subscriber on both
// databases: creating it again conflicts, looking it up finds it.
func TestStore_OneMailboxOneSubscriber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := subscribers.NewStore(db, fixedClock(time.Date(2026, 2, 19, 7, 0, 0, 0, time.UTC)))
		for _, group := range [][]string{
			{"müller@münchen.de", "mu\u0308ller@xn--mnchen-3ya.de", "MÜLLER@MÜNCHEN.DE"},
			{"anna@example.org", "anna@example．org"},
		} {
			first, err := subscribers.ValidateEmail(group[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Create(ctx, &subscribers.Subscriber{Email: first, Status: subscribers.StatusActive}); err != nil {
				t.Fatal(err)
			}
			for _, other := range group[1:] {
				v, err := subscribers.ValidateEmail(other)
				if err != nil {
					t.Fatal(err)
				}
				var exists *subscribers.ExistsError
				if err := s.Create(ctx, &subscribers.Subscriber{Email: v, Status: subscribers.StatusActive}); !errors.As(err, &exists) {
					t.Errorf("%q after %q: err = %v, want ExistsError", other, group[0], err)
				}
				got, err := s.GetByEmail(ctx, other)
				if err != nil || got.Email != first {
					t.Errorf("GetByEmail(%q) = %+v, %v; want %q", other, got, err, first)
				}
			}
		}
	})
}

func TestStore_ConfirmUnsubscribe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 2, 19, 7, 0, 0, 0, time.UTC)
		s := subscribers.NewStore(db, fixedClock(now))
		sub := subscribers.Subscriber{Email: "p@example.org", Status: subscribers.StatusPending}
		if err := s.Create(ctx, &sub); err != nil {
			t.Fatal(err)
		}
		got, err := s.Confirm(ctx, sub.ID, "192.0.2.1", "confirm link")
		if err != nil || got.Status != subscribers.StatusActive || got.Consent.IP != "192.0.2.1" || got.Consent.Method != "double-opt-in" || !got.ConfirmedAt.Equal(now) {
			t.Fatalf("Confirm = %+v, %v", got, err)
		}
		for i := 0; i < 2; i++ {
			got, err = s.Unsubscribe(ctx, sub.ID)
			if err != nil || got.Status != subscribers.StatusUnsubscribed || !got.UnsubscribedAt.Equal(now) {
				t.Fatalf("Unsubscribe #%d = %+v, %v", i+1, got, err)
			}
		}
	})
}
