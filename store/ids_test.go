package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
)

// TestMigration11_SelectionArticleIDs writes a selection's articles the way
// schema 10 did (one row per article with its position) and migrates: the
// selection holds the same articles in the same order as one id list, a
// selection without rows holds none, and migrating down gives the rows back.
func TestMigration11_SelectionArticleIDs(t *testing.T) {
	eachAtSchema(t, 10, func(t *testing.T, ctx context.Context, db *store.DB) {
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Date(2026, 2, 19, 7, 0, 0, 0, time.UTC)
		for i := 1; i <= 4; i++ {
			exec(`INSERT INTO articles (id, key, url, title, published_at, ingested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				i, fmt.Sprint("k", i), fmt.Sprint("https://example.org/", i), "T", now, now, now)
		}
		exec(`INSERT INTO runs (id, cadence, edition, at, created_at) VALUES (1, 'weekly', '2026-W08', ?, ?)`, now, now)
		exec(`INSERT INTO selections (id, run_id, choice_key, history_key, total) VALUES (1, 1, '|', '', 5), (2, 1, 'DE|', '', 0)`)
		// Newest first is position order, not id order.
		exec(`INSERT INTO selection_articles (selection_id, article_id, position) VALUES (1, 3, 1), (1, 1, 2), (1, 4, 3)`)
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		lists := func() map[int64]store.IDs {
			t.Helper()
			rows, err := db.QueryContext(ctx, `SELECT id, article_ids FROM selections ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			got := map[int64]store.IDs{}
			for rows.Next() {
				var id int64
				var ids store.IDs
				if err := rows.Scan(&id, &ids); err != nil {
					t.Fatal(err)
				}
				got[id] = ids
			}
			return got
		}
		got := lists()
		if !slices.Equal(got[1], store.IDs{3, 1, 4}) || len(got[2]) != 0 {
			t.Fatalf("after migrating: %v, want selection 1 [3 1 4] and selection 2 empty", got)
		}
		var n int
		if err := db.GetContext(ctx, &n, `SELECT `+db.IDsLen("article_ids")+` FROM selections WHERE id = 1`); err != nil || n != 3 {
			t.Fatalf("IDsLen = %d, %v; want 3", n, err)
		}
		if err := db.MigrateDownTo(ctx, 10); err != nil {
			t.Fatalf("migrating down: %v", err)
		}
		var back []struct {
			Article  int64 `db:"article_id"`
			Position int   `db:"position"`
		}
		if err := db.SelectContext(ctx, &back, `SELECT article_id, position FROM selection_articles WHERE selection_id = 1 ORDER BY position`); err != nil {
			t.Fatal(err)
		}
		if len(back) != 3 || back[0].Article != 3 || back[1].Article != 1 || back[2].Article != 4 || back[2].Position != 3 {
			t.Fatalf("rows after migrating down: %+v", back)
		}
	})
}

func TestIDs_Scan(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want store.IDs
		bad  bool
	}{
		{nil, nil, false},
		{"{}", store.IDs{}, false},
		{"[]", store.IDs{}, false},
		{[]byte("{7,12,3}"), store.IDs{7, 12, 3}, false},
		{"[7, 12, 3]", store.IDs{7, 12, 3}, false},
		{"7,12", nil, true},
		{"[7,x]", nil, true},
		{42, nil, true},
	} {
		var got store.IDs
		err := got.Scan(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && !slices.Equal(got, tc.want)) {
			t.Errorf("Scan(%v) = %v, %v; want %v (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}
