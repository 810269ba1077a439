package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/kommune21/digest/store"
)

// The statement counter must see what the run sends to SQLite, through the
// product's DSN, and keep the database file the sender locks.
func TestCountingSQLite_CountsStatements(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bench.db")
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b := &bench{}
	run := b.countingSQLite(db)
	defer run.Close()
	if run.Path() != path || run.Dialect != store.SQLite {
		t.Fatalf("counting handle: path %q dialect %q, want %q sqlite", run.Path(), run.Dialect, path)
	}
	var n int
	if err := run.GetContext(ctx, &n, `SELECT count(*) FROM subscribers`); err != nil {
		t.Fatal(err)
	}
	if err := run.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = name WHERE id = ?`, 1)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The DSN's pragmas hold on the counted connections too.
	var fk int
	if err := run.GetContext(ctx, &fk, `PRAGMA foreign_keys`); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v; want 1 (the product's DSN)", fk, err)
	}
	if q, e, bg := b.n.queries.Load(), b.n.execs.Load(), b.n.begins.Load(); q != 2 || e != 1 || bg != 1 || b.n.total() != 5 {
		t.Errorf("counted %d queries, %d execs, %d begins, %d in all; want 2, 1, 1, 5", q, e, bg, b.n.total())
	}
}

func TestRunSizes_RejectsABadList(t *testing.T) {
	var out bytes.Buffer
	err := runSizes(context.Background(), options{}, "10000,ten", &out)
	if err == nil || !strings.Contains(err.Error(), `"ten" is not a positive number`) {
		t.Fatalf("err = %v, want one naming \"ten\"", err)
	}
}
