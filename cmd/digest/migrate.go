package main

import (
	"fmt"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/templates"
)

func cmdMigrate(a *app, args []string) error {
	fs := a.flags("migrate", "[flags]", "Create or update the database schema. Safe to run again: an up-to-date database is left as it is.")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	db, err := openUnchecked(a)
	if err != nil {
		return err
	}
	applied, err := db.Migrate(a.ctx)
	if err != nil {
		return err
	}
	current, _, err := db.Version(a.ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(a.stdout, "%s is up to date (schema version %d)\n", db, current)
		return nil
	}
	fmt.Fprintf(a.stdout, "%s migrated to schema version %d (applied %v)\n", db, current, applied)
	return a.noteDuplicateMailboxes(db)
}

// noteDuplicateMailboxes lists the subscribers that migration 5 (address
// normalisation) found to be a second row of an older subscriber's mailbox.
// They keep their data and still receive digests until staff decide.
func (a *app) noteDuplicateMailboxes(db *store.DB) error {
	var dups []struct {
		Email string `db:"email"`
		Key   string `db:"email_key"`
	}
	if err := db.SelectContext(a.ctx, &dups, db.Rebind(`SELECT email, email_key FROM subscribers WHERE email_key LIKE ? ORDER BY id`),
		"%"+store.DuplicateKeyMark+"%"); err != nil {
		return err
	}
	if len(dups) == 0 {
		return nil
	}
	fmt.Fprintf(a.stderr, "note: %d subscriber(s) are the same mailbox as an older subscriber once addresses are normalised (NFC, IDNA);\n"+
		"both rows were kept and both receive digests. Check them with `digest subscribers show KEY` and remove the extra one\n"+
		"with `digest subscribers delete KEY`:\n", len(dups))
	for _, d := range dups {
		fmt.Fprintf(a.stderr, "  %s (key %s)\n", cleanTerminal(d.Email), d.Key)
	}
	return nil
}

// openUnchecked opens the database without checking its schema (for migrate).
func openUnchecked(a *app) (*store.DB, error) {
	db, err := store.Open(a.ctx, a.cfg.DB)
	if err != nil {
		return nil, err
	}
	a.db = db
	return db, nil
}

// cleanTerminal makes untrusted text (names, titles, addresses) safe for one
// line of a terminal table: the cleaning the emails get (templates.CleanLine),
// so bidi overrides and control characters cannot reorder or fake output.
func cleanTerminal(s string) string { return templates.CleanLine(s) }
