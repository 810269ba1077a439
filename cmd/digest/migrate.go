package main

import (
	"fmt"

	"github.com/kommune21/digest/store"
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
