package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
)

// TestMigration5_NormalisesAddresses writes subscribers the way schema 4 did
// (email as typed, email_key lower-cased) and migrates: internationalised
// addresses get their normalised form and identity, ASCII ones stay, and two
// rows of one mailbox both survive, the younger one marked.
func TestMigration5_NormalisesAddresses(t *testing.T) {
	eachAtSchema(t, 4, func(t *testing.T, ctx context.Context, db *store.DB) {
		now := time.Date(2026, 2, 19, 7, 0, 0, 0, time.UTC)
		rows := []struct{ email, key string }{
			{"Anna@Example.org", "anna@example.org"},                 // 1: ASCII, unchanged
			{"mu\u0308ller@münchen.de", "mu\u0308ller@münchen.de"},   // 2: NFD local part
			{"x@xn--mnchen-3ya.de", "x@xn--mnchen-3ya.de"},           // 3: A-label
			{"x@münchen.de", "x@münchen.de"},                         // 4: the same mailbox as 3
			{"bob@example．org", "bob@example．org"},                   // 5: full-width dot
			{"müller@xn--mnchen-3ya.de", "müller@xn--mnchen-3ya.de"}, // 6: the same mailbox as 2
		}
		for _, r := range rows {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO subscribers (email, email_key, status, created_at, updated_at) VALUES (?, ?, 'active', ?, ?)`),
				r.email, r.key, now, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Check(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[int64][2]string{
			1: {"Anna@Example.org", "anna@example.org"},
			2: {"müller@münchen.de", "müller@xn--mnchen-3ya.de"},
			3: {"x@xn--mnchen-3ya.de", "x@xn--mnchen-3ya.de"},
			4: {"x@münchen.de", "x@xn--mnchen-3ya.de#4"},
			5: {"bob@example.org", "bob@example.org"},
			6: {"müller@xn--mnchen-3ya.de", "müller@xn--mnchen-3ya.de#6"},
		}
		var got []struct {
			ID    int64  `db:"id"`
			Email string `db:"email"`
			Key   string `db:"email_key"`
		}
		if err := db.SelectContext(ctx, &got, `SELECT id, email, email_key FROM subscribers ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows after the migration, want %d", len(got), len(want))
		}
		for _, g := range got {
			if w := want[g.ID]; g.Email != w[0] || g.Key != w[1] {
				t.Errorf("subscriber %d: %q key %q, want %q key %q", g.ID, g.Email, g.Key, w[0], w[1])
			}
		}
	})
}
