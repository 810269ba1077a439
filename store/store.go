package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/internal/redact"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL dialect of an open database.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DefaultURL is the embedded default: a SQLite file in the working directory.
const DefaultURL = "sqlite:digest.db"

// DB is an open database. It embeds *sqlx.DB; SQL is written with "?" and passed
// through Rebind (sqlx does that for the *Context helpers only when called via DB.Rebind).
type DB struct {
	*sqlx.DB
	Dialect Dialect
	url     string // redacted
	path    string // SQLite: the database file
}

// Open opens the database named by rawURL ("postgres://…" or "sqlite:PATH").
// It pings the database but does not check the schema (see Check). Its errors
// never contain a password, not even when the driver repeats its input.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var db *sqlx.DB
	switch loc.Dialect {
	case Postgres:
		// The connector parses the URL once, here; its errors are scrubbed
		// of the passwords in case a future lib/pq repeats what it read.
		c, err := pq.NewConnector(loc.raw)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", loc, redact.Error(err, loc.secrets...))
		}
		db = sqlx.NewDb(sql.OpenDB(c), "postgres")
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
	case SQLite:
		db, err = sqlx.Open("sqlite", sqliteDSN(loc.Path))
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", loc, err)
		}
		// WAL allows many readers and one writer; IMMEDIATE transactions
		// queue writers on the busy timeout instead of failing.
		db.SetMaxOpenConns(4)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w (is the database running and DIGEST_DB right?)", loc, redact.Error(err, loc.secrets...))
	}
	return &DB{DB: db, Dialect: loc.Dialect, url: loc.String(), path: loc.Path}, nil
}

func sqliteDSN(path string) string {
	q := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
	return "file:" + path + "?" + q
}

// Path is the database file of a SQLite database ("" for PostgreSQL).
func (db *DB) Path() string { return db.path }

// String returns the database URL with any password removed.
func (db *DB) String() string { return db.url }

// Agg returns the dialect's ordered string aggregate of expr, e.g.
// string_agg(CAST(x AS TEXT), ',' ORDER BY x) on PostgreSQL and
// group_concat(CAST(x AS TEXT), ',' ORDER BY x) on SQLite.
func (db *DB) Agg(expr, sep, orderBy string) string {
	fn := "group_concat"
	if db.Dialect == Postgres {
		fn = "string_agg"
	}
	return fmt.Sprintf("%s(CAST(%s AS TEXT), '%s' ORDER BY %s)", fn, expr, sep, orderBy)
}

// Tx runs fn in a transaction and commits it when fn returns nil.
func (db *DB) Tx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// T normalises a time for storage: UTC, microsecond precision.
func T(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// NullT is T for optional times: the zero time is stored as NULL.
func NullT(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: T(t), Valid: true}
}

// IsUniqueViolation reports whether err is a unique-constraint violation in either dialect.
func IsUniqueViolation(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign-key violation in either dialect.
func IsForeignKeyViolation(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23503"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// Int64Array is ids as one PostgreSQL bigint[] argument (for "= ANY(?)"):
// a statement whose text does not change with the number of ids, so it can
// be prepared once.
func Int64Array(ids []int64) any { return pq.Int64Array(ids) }

// In expands a query with an IN (?) list argument and rebinds it for the dialect.
func (db *DB) In(query string, args ...any) (string, []any, error) {
	q, a, err := sqlx.In(query, args...)
	if err != nil {
		return "", nil, err
	}
	return db.Rebind(q), a, nil
}

// TimeArg is a placeholder for a time parameter in a SELECT list, where
// PostgreSQL cannot infer its type ("?" elsewhere needs no cast).
func (db *DB) TimeArg() string {
	if db.Dialect == Postgres {
		return "CAST(? AS TIMESTAMPTZ)"
	}
	return "?"
}
