package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// A SQLite file of another program is refused by `digest migrate`, with the
// file and its tables named, and left byte for byte as it was.
func TestMigrate_RefusesForeignSQLiteFile(t *testing.T) {
	dbURL := storetest.SQLiteURL(t)
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE users (id INTEGER)", "CREATE TABLE orders (id INTEGER)", "CREATE TABLE items (id INTEGER)"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	path := db.Path()
	db.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	out, stderr, code := articlesRun(dbURL, "migrate")
	if code == 0 {
		t.Fatalf("migrate of a foreign file succeeded: stdout %q", out)
	}
	for _, want := range []string{path, "has 3 tables (items, orders, users)", "not a digest database", "choose another DIGEST_DB"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not contain %q", stderr, want)
		}
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the refused file was changed")
	}
}
