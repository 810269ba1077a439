package digest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
)

// fixture writes articles and subscribers straight into the schema, so that
// these tests depend on the digest package and the schema only.
type fixture struct {
	t  testing.TB
	db *store.DB
}

func (f fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.ExecContext(context.Background(), f.db.Rebind(q), args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func (f fixture) id(q string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.GetContext(context.Background(), &id, f.db.Rebind(q), args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return id
}

// article adds an article; tags are "DE-BY" region codes or topic slugs.
func (f fixture) article(key string, published, ingested time.Time, tags ...string) int64 {
	f.t.Helper()
	kicker, title, _ := strings.Cut(key, ": ")
	if title == "" {
		title, kicker = key, ""
	}
	id := f.id(`INSERT INTO articles (key, url, title, kicker, teaser, published_at, ingested_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		key, "https://www.kommune21.de/meldung_"+fmt.Sprint(len(key))+".html", title, kicker, "Teaser zu "+title,
		store.T(published), store.T(ingested), store.T(ingested))
	for _, tag := range tags {
		if strings.HasPrefix(tag, "DE") {
			f.exec(`INSERT INTO article_regions (article_id, region_code) VALUES (?, ?)`, id, tag)
		} else {
			f.exec(`INSERT INTO article_topics (article_id, topic_slug) VALUES (?, ?)`, id, tag)
		}
	}
	return id
}

// subscriber adds an active weekly subscriber with the given choices.
func (f fixture) subscriber(email string, choices ...string) int64 {
	f.t.Helper()
	now := store.T(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	id := f.id(`INSERT INTO subscribers (email, email_key, name, status, cadence, created_at, updated_at)
		VALUES (?, ?, ?, 'active', 'weekly', ?, ?) RETURNING id`, email, strings.ToLower(email), "Name "+email, now, now)
	for _, c := range choices {
		if strings.HasPrefix(c, "DE") {
			f.exec(`INSERT INTO subscriber_regions (subscriber_id, region_code) VALUES (?, ?)`, id, c)
		} else {
			f.exec(`INSERT INTO subscriber_topics (subscriber_id, topic_slug) VALUES (?, ?)`, id, c)
		}
	}
	return id
}

// digestOf returns the article keys in a subscriber's delivery of a run, in
// order, and the delivery's status.
func (f fixture) digestOf(runID int64, email string) (keys []string, status string) {
	f.t.Helper()
	ctx := context.Background()
	err := f.db.GetContext(ctx, &status, f.db.Rebind(`
		SELECT d.status FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.run_id = ? AND s.email = ?`), runID, email)
	if err != nil {
		return nil, "none"
	}
	var ids store.IDs
	err = f.db.GetContext(ctx, &ids, f.db.Rebind(`
		SELECT sel.article_ids FROM deliveries d
		JOIN subscribers s ON s.id = d.subscriber_id
		JOIN selections sel ON sel.id = d.selection_id
		WHERE d.run_id = ? AND s.email = ?`), runID, email)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		f.t.Fatal(err)
	}
	for _, id := range ids {
		var key string
		if err := f.db.GetContext(ctx, &key, f.db.Rebind(`SELECT key FROM articles WHERE id = ?`), id); err != nil {
			f.t.Fatalf("article %d of %s's digest: %v", id, email, err)
		}
		keys = append(keys, key)
	}
	return keys, status
}

// markSent marks every pending delivery of a run sent, as a successful send would.
func (f fixture) markSent(runID int64) {
	f.exec(`UPDATE deliveries SET status = 'sent', attempts = 1 WHERE run_id = ? AND status = 'pending'`, runID)
}

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }
