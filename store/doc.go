// Package store opens the digest database and owns its schema.
//
// The database is named by a URL: "postgres://…" (PostgreSQL through lib/pq) or
// "sqlite:PATH" (SQLite through the pure-Go modernc.org/sqlite, the embedded default).
// Both dialects share one schema, kept as goose migrations embedded per dialect under
// migrations/<dialect>. Application SQL is written once with "?" placeholders and
// rebound for PostgreSQL; the few places where the dialects differ are the methods
// of DB (Agg, TimeArg, the id list helpers IDsType, IDsArg, IDsValue, EachID,
// IDsAgg, IDsLen, and Dialect) and nothing else. An id list column (IDs) is
// BIGINT[] on PostgreSQL and a JSON array in a TEXT column on SQLite: both
// drivers hand it to database/sql as text, which IDs scans in either form.
//
// Invariants:
//   - Every command except "migrate" calls Check and refuses a database whose schema
//     is missing or older than this binary (ErrNotMigrated), or newer (ErrSchemaNewer).
//   - Times are stored in UTC with microsecond precision (T), so that SQLite's textual
//     timestamps compare in the same order as PostgreSQL's timestamptz.
//   - SQLite connections use WAL, a busy timeout, foreign keys and IMMEDIATE
//     transactions: with deferred transactions concurrent writers lose writes.
//   - No index of deliveries names a column that sending changes (status,
//     claimed_by, attempts, next_attempt_at, last_error, message_id, sent_at,
//     updated_at; migration 00014), so that on PostgreSQL each delivery's claim
//     and record are heap-only updates; deliveries has fillfactor 60 for room on
//     the page. Open deliveries are found through the run (the (run_id, id)
//     index) and, across runs, through runs.finished_at IS NULL, which digest
//     keeps true for every run with an open delivery (digest/doc.go, "Open
//     runs"). TestSchema_DeliveryIndexesAvoidSendColumns checks the indexes.
package store
