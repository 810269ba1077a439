package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// ErrNotMigrated means the database schema is missing or older than this binary.
var ErrNotMigrated = errors.New("the database schema is not up to date: run `digest migrate`")

// ErrSchemaNewer means the database was migrated by a newer digest.
var ErrSchemaNewer = errors.New("the database schema is newer than this digest binary: use the newer binary")

func (db *DB) provider(ctx context.Context) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithGoMigrations(rekeyMigration()), goose.WithDisableGlobalRegistry(true)}
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		// Two processes migrating one schema at once would both try to create
		// the tables. The lock is the schema's, so that schemas of one database
		// (every PostgreSQL test has its own) migrate side by side; the one that
		// waits looks again every second (goose's default is every 5 s), for up
		// to 5 minutes: a migration takes well under a second.
		var schema string
		if err := db.GetContext(ctx, &schema, `SELECT current_schema()`); err != nil {
			return nil, fmt.Errorf("current schema: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("digest migrations " + schema))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.DB.DB, sub, opts...)
}

// Migrate applies every pending migration and returns the versions it applied.
// It is idempotent: on an up-to-date database it applies nothing.
func (db *DB) Migrate(ctx context.Context) ([]int64, error) {
	if err := db.refuseForeign(ctx); err != nil {
		return nil, err
	}
	p, err := db.provider(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", db, err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// MigrateTo applies the pending migrations up to and including version (for
// tests of a migration on data written by an older schema).
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	if err := db.refuseForeign(ctx); err != nil {
		return err
	}
	p, err := db.provider(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate %s: %w", db, err)
	}
	return nil
}

// MigrateDownTo rolls back the applied migrations newer than version (for
// tests of a migration's Down part).
func (db *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, err := db.provider(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrate %s down to %d: %w", db, version, err)
	}
	return nil
}

// Version returns the schema version of the database (0 when never migrated)
// and the newest version this binary knows.
func (db *DB) Version(ctx context.Context) (current, latest int64, err error) {
	p, err := db.provider(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	for _, s := range p.ListSources() {
		latest = max(latest, s.Version)
	}
	// GetDBVersion would create goose's version table on a fresh database; a
	// command that only checks must not write, so look for the table first.
	exists, err := db.tableExists(ctx, "goose_db_version")
	if err != nil || !exists {
		return 0, latest, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, latest, fmt.Errorf("read schema version of %s: %w", db, err)
	}
	return current, latest, nil
}

// Check refuses a database that is not migrated to exactly this binary's schema.
func (db *DB) Check(ctx context.Context) error {
	current, latest, err := db.Version(ctx)
	if err != nil {
		return err
	}
	switch {
	case current < latest:
		return fmt.Errorf("%s is at schema version %d, this digest needs %d: %w", db, current, latest, ErrNotMigrated)
	case current > latest:
		return fmt.Errorf("%s is at schema version %d, this digest knows only %d: %w", db, current, latest, ErrSchemaNewer)
	}
	return nil
}

// ErrForeignDatabase means the database has tables but no digest version table:
// it belongs to something else, and migrating it would mix digest's tables in.
var ErrForeignDatabase = errors.New("not a digest database")

// refuseForeign refuses, before anything is written, a database (SQLite file or
// PostgreSQL schema) that has tables but not goose's version table.
func (db *DB) refuseForeign(ctx context.Context) error {
	exists, err := db.tableExists(ctx, "goose_db_version")
	if err != nil {
		return fmt.Errorf("inspect %s: %w", db, err)
	}
	if exists {
		return nil
	}
	var names []string
	if db.Dialect == Postgres {
		err = db.SelectContext(ctx, &names, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`)
	} else {
		err = db.SelectContext(ctx, &names, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	}
	if err != nil {
		return fmt.Errorf("inspect %s: %w", db, err)
	}
	if len(names) == 0 {
		return nil
	}
	shown := names
	more := ""
	if len(shown) > 5 {
		shown, more = shown[:5], ", …"
	}
	return fmt.Errorf("%s has %d tables (%s%s) and is %w; choose another DIGEST_DB (nothing was written)",
		db, len(names), strings.Join(shown, ", "), more, ErrForeignDatabase)
}

func (db *DB) tableExists(ctx context.Context, name string) (bool, error) {
	var n int
	var err error
	if db.Dialect == Postgres {
		err = db.GetContext(ctx, &n, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`, name)
	} else {
		err = db.GetContext(ctx, &n, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name)
	}
	return n > 0, err
}
