package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

func TestMigrate_Twice(t *testing.T) {
	for name, rawURL := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, rawURL(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()

			err = db.Check(ctx)
			if !errors.Is(err, store.ErrNotMigrated) || !strings.Contains(err.Error(), "run `digest migrate`") {
				t.Fatalf("Check on a new database = %v, want ErrNotMigrated with the hint", err)
			}
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) == 0 {
				t.Fatal("first Migrate applied nothing")
			}
			applied, err = db.Migrate(ctx)
			if err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			if len(applied) != 0 {
				t.Fatalf("second Migrate applied %v, want nothing", applied)
			}
			if err := db.Check(ctx); err != nil {
				t.Fatalf("Check after Migrate: %v", err)
			}
			var regions, topics int
			db.GetContext(ctx, &regions, "SELECT count(*) FROM regions")
			db.GetContext(ctx, &topics, "SELECT count(*) FROM topics")
			if regions != 17 || topics != 20 {
				t.Fatalf("seeded %d regions and %d topics, want 17 and 20", regions, topics)
			}
		})
	}
}

func TestDB_Constraints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ins := db.Rebind(`INSERT INTO topics (slug, name, position) VALUES (?, ?, 99)`)
		_, err := db.ExecContext(ctx, ins, "it-sicherheit", "Noch einmal")
		if !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate slug: err = %v, want a unique violation", err)
		}
		_, err = db.ExecContext(ctx, ins, "Bad Slug", "Schlecht")
		if err == nil {
			t.Fatal("slug with a space and capitals was accepted")
		}
		_, err = db.ExecContext(ctx, db.Rebind(`INSERT INTO article_regions (article_id, region_code) VALUES (?, ?)`), 12345, "DE-XX")
		if !store.IsForeignKeyViolation(err) {
			t.Fatalf("dangling foreign key: err = %v, want a foreign-key violation", err)
		}
	})
}

func TestDB_Agg(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var got string
		q := "SELECT " + db.Agg("code", ",", "position DESC") + " FROM regions WHERE position < 3"
		if err := db.GetContext(context.Background(), &got, q); err != nil {
			t.Fatal(err)
		}
		if got != "DE-BY,DE-BW,DE" {
			t.Fatalf("Agg = %q, want DE-BY,DE-BW,DE", got)
		}
	})
}

func TestOpen_BadURL(t *testing.T) {
	_, err := store.Open(context.Background(), "mysql://root:hunter2@localhost/x")
	if err == nil || !strings.Contains(err.Error(), "DIGEST_DB") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v, want a hint naming DIGEST_DB and no password", err)
	}
}

func TestMigrate_RefusesForeignDatabase(t *testing.T) {
	for name, rawURL := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, rawURL(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range []string{"CREATE TABLE users (id INTEGER)", "CREATE TABLE orders (id INTEGER)", "CREATE TABLE items (id INTEGER)"} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			_, err = db.Migrate(ctx)
			if !errors.Is(err, store.ErrForeignDatabase) {
				t.Fatalf("Migrate on a foreign database = %v, want ErrForeignDatabase", err)
			}
			for _, want := range []string{db.String(), "has 3 tables (items, orders, users)", "choose another DIGEST_DB"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if err := db.MigrateTo(ctx, 1); !errors.Is(err, store.ErrForeignDatabase) {
				t.Fatalf("MigrateTo on a foreign database = %v, want ErrForeignDatabase", err)
			}
			var n int
			if db.Dialect == store.Postgres {
				err = db.GetContext(ctx, &n, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`)
			} else {
				err = db.GetContext(ctx, &n, `SELECT count(*) FROM sqlite_master WHERE type = 'table'`)
			}
			if err != nil || n != 3 {
				t.Fatalf("after the refusal the database has %d tables (%v), want the 3 it had", n, err)
			}
		})
	}
}
