package main

import (
	"context"
	"database/sql/driver"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/kommune21/digest/store"
)

// statements counts what the program sends to the database (PostgreSQL or
// SQLite): every query and exec (prepared or not), and transaction begins and
// ends.
type statements struct {
	queries, execs, begins, ends atomic.Int64

	mu   sync.Mutex
	slow map[string]slowStatement // by statement text
}

// slowStatement sums the time of one statement text (until its result is ready).
type slowStatement struct {
	Text  string
	Count int
	Time  time.Duration
}

func (s *statements) timed(q string, start time.Time) {
	d := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slow == nil {
		s.slow = map[string]slowStatement{}
	}
	st := s.slow[q]
	st.Text, st.Count, st.Time = q, st.Count+1, st.Time+d
	s.slow[q] = st
}

// slowest returns the n statement texts that took longest in all, and resets the record.
func (s *statements) slowest(n int) []slowStatement {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]slowStatement, 0, len(s.slow))
	for _, st := range s.slow {
		all = append(all, st)
	}
	s.slow = nil
	sort.Slice(all, func(i, j int) bool { return all[i].Time > all[j].Time })
	return all[:min(n, len(all))]
}

func (s *statements) total() int64 {
	return s.queries.Load() + s.execs.Load() + s.begins.Load() + s.ends.Load()
}

// countingConnector wraps lib/pq's connector.
type countingConnector struct {
	driver.Connector
	n *statements
}

func newCountingConnector(dsn string, n *statements) (driver.Connector, error) {
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return countingConnector{c, n}, nil
}

// newCountingSQLite counts the statements of a SQLite database opened with
// the product's DSN (store.SQLiteDSN).
func newCountingSQLite(path string, n *statements) driver.Connector {
	return countingConnector{dsnConnector{drv: &sqlite.Driver{}, dsn: store.SQLiteDSN(path)}, n}
}

// dsnConnector opens a driver by its data source name.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{inner: conn, n: c.n}, nil
}

// countingConn implements the interfaces of lib/pq's and modernc.org/sqlite's
// conns that database/sql uses; where the inner conn lacks one, it does what
// database/sql does without it.
type countingConn struct {
	inner driver.Conn
	n     *statements
}

func (c *countingConn) Prepare(q string) (driver.Stmt, error) {
	st, err := c.inner.Prepare(q)
	if err != nil {
		return nil, err
	}
	return &countingStmt{st, c.n, q}, nil
}

func (c *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.inner.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &countingStmt{st, c.n, q}, nil
}

func (c *countingConn) Close() error { return c.inner.Close() }

func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.n.begins.Add(1)
	tx, err := c.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{tx, c.n}, nil
}

func (c *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.n.execs.Add(1)
	defer c.n.timed(q, time.Now())
	return c.inner.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.queries.Add(1)
	defer c.n.timed(q, time.Now())
	return c.inner.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.inner.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip // database/sql's default conversion
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type countingTx struct {
	driver.Tx
	n *statements
}

func (t countingTx) Commit() error   { t.n.ends.Add(1); return t.Tx.Commit() }
func (t countingTx) Rollback() error { t.n.ends.Add(1); return t.Tx.Rollback() }

type countingStmt struct {
	driver.Stmt
	n *statements
	q string
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.execs.Add(1)
	defer s.n.timed(s.q, time.Now())
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.queries.Add(1)
	defer s.n.timed(s.q, time.Now())
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}
