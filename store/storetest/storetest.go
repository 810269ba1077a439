// Package storetest opens real databases for tests: a fresh SQLite file always,
// and a fresh PostgreSQL schema when DIGEST_TEST_POSTGRES names a server.
//
// When DIGEST_REQUIRE_POSTGRES=1 (CI sets it), a missing DIGEST_TEST_POSTGRES is a
// test failure instead of a skip, so PostgreSQL coverage cannot silently vanish.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/kommune21/digest/store"
)

// Each runs fn once per available database, as subtests named "sqlite" and "postgres".
// Every call gets a new, migrated, empty database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite returns a migrated database in a new temporary file.
func SQLite(tb testing.TB) *store.DB {
	tb.Helper()
	return open(tb, SQLiteURL(tb), true)
}

// SQLiteURL returns the URL of a new, empty, unmigrated SQLite file.
func SQLiteURL(tb testing.TB) string {
	return "sqlite:" + filepath.Join(tb.TempDir(), "digest.db")
}

// Postgres returns a migrated database in a new PostgreSQL schema, dropped at cleanup.
// It skips the test when DIGEST_TEST_POSTGRES is unset (fails when DIGEST_REQUIRE_POSTGRES=1).
func Postgres(tb testing.TB) *store.DB {
	tb.Helper()
	return open(tb, PostgresURL(tb), true)
}

// PostgresURL creates a new empty schema and returns a URL whose connections use it.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("DIGEST_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("DIGEST_REQUIRE_POSTGRES") == "1" {
			tb.Fatal("DIGEST_TEST_POSTGRES is not set but DIGEST_REQUIRE_POSTGRES=1: PostgreSQL tests must run")
		}
		tb.Skip("PostgreSQL test skipped: set DIGEST_TEST_POSTGRES=postgres://… to run it")
	}
	ctx := context.Background()
	admin, err := store.Open(ctx, base)
	if err != nil {
		tb.Fatalf("DIGEST_TEST_POSTGRES: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		a, err := store.Open(context.Background(), base)
		if err != nil {
			return
		}
		defer a.Close()
		a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("DIGEST_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func open(tb testing.TB, rawURL string, migrate bool) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if migrate {
		if _, err := db.Migrate(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	return db
}
