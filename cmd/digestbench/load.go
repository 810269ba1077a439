package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/store"
)

// createPostgres creates a fresh database on the server of base and returns
// its URL and a function that drops it.
func createPostgres(ctx context.Context, base, name string) (string, func(), error) {
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := admin.PingContext(pctx); err != nil {
		return "", nil, fmt.Errorf("PostgreSQL at %s is unreachable: %w\n"+
			"make bench needs a PostgreSQL server where it may create databases: set DIGEST_BENCH_POSTGRES=postgres://USER@HOST:5432/?sslmode=disable",
			store.Redact(base), err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		a, err := sql.Open("postgres", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`)
	}
	return u.String(), drop, nil
}

// tableWriter appends rows to one table.
type tableWriter interface {
	row(vals ...any) error
	close() error
}

// copyWriter streams rows with PostgreSQL COPY.
type copyWriter struct{ st *sql.Stmt }

func (w copyWriter) row(vals ...any) error { _, err := w.st.Exec(vals...); return err }
func (w copyWriter) close() error {
	if _, err := w.st.Exec(); err != nil {
		return err
	}
	return w.st.Close()
}

// insertWriter inserts rows one by one with a prepared statement (SQLite, in one transaction).
type insertWriter struct{ st *sql.Stmt }

func (w insertWriter) row(vals ...any) error { _, err := w.st.Exec(vals...); return err }
func (w insertWriter) close() error          { return w.st.Close() }

func openTable(tx *sql.Tx, d store.Dialect, table string, cols ...string) (tableWriter, error) {
	if d == store.Postgres {
		// lib/pq runs a prepared "COPY … FROM STDIN" as a bulk load.
		st, err := tx.Prepare("COPY " + pq.QuoteIdentifier(table) + " (" + quoteIdents(cols) + ") FROM STDIN")
		return copyWriter{st}, err
	}
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
	st, err := tx.Prepare(q)
	return insertWriter{st}, err
}

// loadStats says what load wrote.
type loadStats struct {
	Subscribers, SubscriberTags, Articles, ArticleTags int
	Late                                               int // subscribers who joined after the previous edition
}

// load writes n subscribers and m articles published in the window before at.
// Subscribers late (joined after the previous edition) are written as pending
// and activated by activateLate.
func load(ctx context.Context, db *store.DB, g *gen, n, m int, at time.Time, window time.Duration, lateShare float64) (loadStats, error) {
	var st loadStats
	tx, err := db.DB.DB.BeginTx(ctx, nil)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	created := store.T(at.Add(-60 * 24 * time.Hour))
	subs, err := openTable(tx, db.Dialect, "subscribers", "id", "email", "email_key", "name", "status", "cadence",
		"consent_at", "consent_method", "consent_source", "created_at", "updated_at", "confirmed_at")
	if err != nil {
		return st, fmt.Errorf("load subscribers: %w", err)
	}
	type tag struct {
		id   int64
		code string
	}
	var regs, tops []tag // written after the subscribers (one COPY at a time per connection)
	flush := func(table, col string, tags []tag) error {
		w, err := openTable(tx, db.Dialect, table, "subscriber_id", col)
		if err != nil {
			return err
		}
		for _, t := range tags {
			if err := w.row(t.id, t.code); err != nil {
				return err
			}
		}
		st.SubscriberTags += len(tags)
		return w.close()
	}
	lateFrom := int64(float64(n) * (1 - lateShare))
	for i := int64(1); i <= int64(n); i++ {
		s := g.subscriber(i)
		status := "active"
		if i > lateFrom {
			status = "pending"
		}
		if err := subs.row(s.id, s.email, strings.ToLower(s.email), s.name, status, s.cadence,
			created, "double-opt-in", "digestbench", created, created, created); err != nil {
			return st, fmt.Errorf("load subscriber %d: %w", i, err)
		}
		for _, r := range s.regions {
			regs = append(regs, tag{i, r})
		}
		for _, t := range s.topic {
			tops = append(tops, tag{i, t})
		}
		// Bound memory for large n: write the tags of every 100,000 subscribers
		// once the subscribers' COPY is done; so finish it and start another.
		if i%100000 == 0 && i < int64(n) {
			if err := subs.close(); err != nil {
				return st, err
			}
			if err := flush("subscriber_regions", "region_code", regs); err != nil {
				return st, err
			}
			if err := flush("subscriber_topics", "topic_slug", tops); err != nil {
				return st, err
			}
			regs, tops = regs[:0], tops[:0]
			if subs, err = openTable(tx, db.Dialect, "subscribers", "id", "email", "email_key", "name", "status", "cadence",
				"consent_at", "consent_method", "consent_source", "created_at", "updated_at", "confirmed_at"); err != nil {
				return st, err
			}
		}
	}
	if err := subs.close(); err != nil {
		return st, fmt.Errorf("load subscribers: %w", err)
	}
	if err := flush("subscriber_regions", "region_code", regs); err != nil {
		return st, fmt.Errorf("load subscriber regions: %w", err)
	}
	if err := flush("subscriber_topics", "topic_slug", tops); err != nil {
		return st, fmt.Errorf("load subscriber topics: %w", err)
	}
	st.Subscribers, st.Late = n, n-int(lateFrom)

	arts, err := openTable(tx, db.Dialect, "articles", "id", "key", "url", "title", "kicker", "teaser", "source",
		"published_at", "ingested_at", "updated_at")
	if err != nil {
		return st, err
	}
	var aregs, atops []tag
	for i := int64(1); i <= int64(m); i++ {
		a := g.article(i, at.Add(-window), at)
		if err := arts.row(a.id, a.key, a.url, a.title, a.kicker, a.teaser, "digestbench",
			store.T(a.published), store.T(a.ingested), store.T(a.ingested)); err != nil {
			return st, fmt.Errorf("load article %d: %w", i, err)
		}
		for _, r := range a.regions {
			aregs = append(aregs, tag{i, r})
		}
		for _, t := range a.articleTops {
			atops = append(atops, tag{i, t})
		}
	}
	if err := arts.close(); err != nil {
		return st, fmt.Errorf("load articles: %w", err)
	}
	for _, t := range []struct {
		table, col string
		tags       []tag
	}{{"article_regions", "region_code", aregs}, {"article_topics", "topic_slug", atops}} {
		w, err := openTable(tx, db.Dialect, t.table, "article_id", t.col)
		if err != nil {
			return st, err
		}
		for _, x := range t.tags {
			if err := w.row(x.id, x.code); err != nil {
				return st, fmt.Errorf("load %s: %w", t.table, err)
			}
		}
		if err := w.close(); err != nil {
			return st, fmt.Errorf("load %s: %w", t.table, err)
		}
		st.ArticleTags += len(t.tags)
	}
	st.Articles = m
	if db.Dialect == store.Postgres {
		// Explicit ids: move the identity sequences past them.
		for _, t := range []string{"subscribers", "articles"} {
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT max(id) FROM `+t+`))`); err != nil {
				return st, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return st, err
	}
	return st, analyze(ctx, db)
}

// analyze refreshes the planner statistics, as autovacuum would have by the
// time of a real run.
func analyze(ctx context.Context, db *store.DB) error {
	q := "ANALYZE"
	if db.Dialect == store.Postgres {
		q = "VACUUM ANALYZE"
	}
	_, err := db.ExecContext(ctx, q)
	return err
}

// previousEdition plans the edition a week before at and marks its
// deliveries sent, so that this week's selection must leave out what
// subscribers already got; then the late subscribers become active.
func previousEdition(ctx context.Context, db *store.DB, at time.Time) (digest.PlanResult, error) {
	prev := at.Add(-7 * 24 * time.Hour)
	p := &digest.Planner{DB: db, Now: func() time.Time { return prev }}
	res, err := p.Plan(ctx, digest.Weekly, prev, false)
	if err != nil {
		return res, fmt.Errorf("previous edition: %w", err)
	}
	sentAt := store.T(prev.Add(10 * time.Minute))
	if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE deliveries SET status = 'sent', attempts = 1, sent_at = ?, updated_at = ?,
		message_id = 'r' || CAST(run_id AS TEXT) || '.d' || CAST(id AS TEXT) || '@bench.example'
		WHERE run_id = ? AND status = 'pending'`), sentAt, sentAt, res.Run.ID); err != nil {
		return res, fmt.Errorf("previous edition: mark sent: %w", err)
	}
	if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE runs SET finished_at = ? WHERE id = ?`), sentAt, res.Run.ID); err != nil {
		return res, err
	}
	if _, err := db.ExecContext(ctx, `UPDATE subscribers SET status = 'active' WHERE status = 'pending'`); err != nil {
		return res, err
	}
	return res, analyze(ctx, db)
}

func quoteIdents(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pq.QuoteIdentifier(c)
	}
	return strings.Join(q, ", ")
}
