package store_test

import (
	"context"
	"testing"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// eachAtSchema runs fn on a fresh SQLite and a fresh PostgreSQL database
// migrated only up to version: a migration test writes rows the way that
// schema did, then migrates on and checks what became of them.
func eachAtSchema(t *testing.T, version int64, fn func(t *testing.T, ctx context.Context, db *store.DB)) {
	for _, tc := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteURL}, {"postgres", storetest.PostgresURL}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, tc.url(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.MigrateTo(ctx, version); err != nil {
				t.Fatal(err)
			}
			fn(t, ctx, db)
		})
	}
}
