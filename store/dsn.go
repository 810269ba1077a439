package store

// SQLiteDSN is the data source name Open gives modernc.org/sqlite for the
// database file path (WAL, busy timeout, foreign keys, IMMEDIATE
// transactions). It is for tools that wrap the driver, such as
// cmd/digestbench's statement counter; the product opens databases with Open.
func SQLiteDSN(path string) string { return sqliteDSN(path) }
